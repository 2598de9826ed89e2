// Original file: proto/etcdserverpb/rpc.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { AuthDisableRequestIn as _etcdserverpb_AuthDisableRequestIn, AuthDisableRequest as _etcdserverpb_AuthDisableRequest } from '../etcdserverpb/AuthDisableRequest.js';
import type { AuthDisableResponseIn as _etcdserverpb_AuthDisableResponseIn, AuthDisableResponse as _etcdserverpb_AuthDisableResponse } from '../etcdserverpb/AuthDisableResponse.js';
import type { AuthEnableRequestIn as _etcdserverpb_AuthEnableRequestIn, AuthEnableRequest as _etcdserverpb_AuthEnableRequest } from '../etcdserverpb/AuthEnableRequest.js';
import type { AuthEnableResponseIn as _etcdserverpb_AuthEnableResponseIn, AuthEnableResponse as _etcdserverpb_AuthEnableResponse } from '../etcdserverpb/AuthEnableResponse.js';
import type { AuthRoleAddRequestIn as _etcdserverpb_AuthRoleAddRequestIn, AuthRoleAddRequest as _etcdserverpb_AuthRoleAddRequest } from '../etcdserverpb/AuthRoleAddRequest.js';
import type { AuthRoleAddResponseIn as _etcdserverpb_AuthRoleAddResponseIn, AuthRoleAddResponse as _etcdserverpb_AuthRoleAddResponse } from '../etcdserverpb/AuthRoleAddResponse.js';
import type { AuthRoleDeleteRequestIn as _etcdserverpb_AuthRoleDeleteRequestIn, AuthRoleDeleteRequest as _etcdserverpb_AuthRoleDeleteRequest } from '../etcdserverpb/AuthRoleDeleteRequest.js';
import type { AuthRoleDeleteResponseIn as _etcdserverpb_AuthRoleDeleteResponseIn, AuthRoleDeleteResponse as _etcdserverpb_AuthRoleDeleteResponse } from '../etcdserverpb/AuthRoleDeleteResponse.js';
import type { AuthRoleGetRequestIn as _etcdserverpb_AuthRoleGetRequestIn, AuthRoleGetRequest as _etcdserverpb_AuthRoleGetRequest } from '../etcdserverpb/AuthRoleGetRequest.js';
import type { AuthRoleGetResponseIn as _etcdserverpb_AuthRoleGetResponseIn, AuthRoleGetResponse as _etcdserverpb_AuthRoleGetResponse } from '../etcdserverpb/AuthRoleGetResponse.js';
import type { AuthRoleGrantPermissionRequestIn as _etcdserverpb_AuthRoleGrantPermissionRequestIn, AuthRoleGrantPermissionRequest as _etcdserverpb_AuthRoleGrantPermissionRequest } from '../etcdserverpb/AuthRoleGrantPermissionRequest.js';
import type { AuthRoleGrantPermissionResponseIn as _etcdserverpb_AuthRoleGrantPermissionResponseIn, AuthRoleGrantPermissionResponse as _etcdserverpb_AuthRoleGrantPermissionResponse } from '../etcdserverpb/AuthRoleGrantPermissionResponse.js';
import type { AuthRoleListRequestIn as _etcdserverpb_AuthRoleListRequestIn, AuthRoleListRequest as _etcdserverpb_AuthRoleListRequest } from '../etcdserverpb/AuthRoleListRequest.js';
import type { AuthRoleListResponseIn as _etcdserverpb_AuthRoleListResponseIn, AuthRoleListResponse as _etcdserverpb_AuthRoleListResponse } from '../etcdserverpb/AuthRoleListResponse.js';
import type { AuthRoleRevokePermissionRequestIn as _etcdserverpb_AuthRoleRevokePermissionRequestIn, AuthRoleRevokePermissionRequest as _etcdserverpb_AuthRoleRevokePermissionRequest } from '../etcdserverpb/AuthRoleRevokePermissionRequest.js';
import type { AuthRoleRevokePermissionResponseIn as _etcdserverpb_AuthRoleRevokePermissionResponseIn, AuthRoleRevokePermissionResponse as _etcdserverpb_AuthRoleRevokePermissionResponse } from '../etcdserverpb/AuthRoleRevokePermissionResponse.js';
import type { AuthStatusRequestIn as _etcdserverpb_AuthStatusRequestIn, AuthStatusRequest as _etcdserverpb_AuthStatusRequest } from '../etcdserverpb/AuthStatusRequest.js';
import type { AuthStatusResponseIn as _etcdserverpb_AuthStatusResponseIn, AuthStatusResponse as _etcdserverpb_AuthStatusResponse } from '../etcdserverpb/AuthStatusResponse.js';
import type { AuthUserAddRequestIn as _etcdserverpb_AuthUserAddRequestIn, AuthUserAddRequest as _etcdserverpb_AuthUserAddRequest } from '../etcdserverpb/AuthUserAddRequest.js';
import type { AuthUserAddResponseIn as _etcdserverpb_AuthUserAddResponseIn, AuthUserAddResponse as _etcdserverpb_AuthUserAddResponse } from '../etcdserverpb/AuthUserAddResponse.js';
import type { AuthUserChangePasswordRequestIn as _etcdserverpb_AuthUserChangePasswordRequestIn, AuthUserChangePasswordRequest as _etcdserverpb_AuthUserChangePasswordRequest } from '../etcdserverpb/AuthUserChangePasswordRequest.js';
import type { AuthUserChangePasswordResponseIn as _etcdserverpb_AuthUserChangePasswordResponseIn, AuthUserChangePasswordResponse as _etcdserverpb_AuthUserChangePasswordResponse } from '../etcdserverpb/AuthUserChangePasswordResponse.js';
import type { AuthUserDeleteRequestIn as _etcdserverpb_AuthUserDeleteRequestIn, AuthUserDeleteRequest as _etcdserverpb_AuthUserDeleteRequest } from '../etcdserverpb/AuthUserDeleteRequest.js';
import type { AuthUserDeleteResponseIn as _etcdserverpb_AuthUserDeleteResponseIn, AuthUserDeleteResponse as _etcdserverpb_AuthUserDeleteResponse } from '../etcdserverpb/AuthUserDeleteResponse.js';
import type { AuthUserGetRequestIn as _etcdserverpb_AuthUserGetRequestIn, AuthUserGetRequest as _etcdserverpb_AuthUserGetRequest } from '../etcdserverpb/AuthUserGetRequest.js';
import type { AuthUserGetResponseIn as _etcdserverpb_AuthUserGetResponseIn, AuthUserGetResponse as _etcdserverpb_AuthUserGetResponse } from '../etcdserverpb/AuthUserGetResponse.js';
import type { AuthUserGrantRoleRequestIn as _etcdserverpb_AuthUserGrantRoleRequestIn, AuthUserGrantRoleRequest as _etcdserverpb_AuthUserGrantRoleRequest } from '../etcdserverpb/AuthUserGrantRoleRequest.js';
import type { AuthUserGrantRoleResponseIn as _etcdserverpb_AuthUserGrantRoleResponseIn, AuthUserGrantRoleResponse as _etcdserverpb_AuthUserGrantRoleResponse } from '../etcdserverpb/AuthUserGrantRoleResponse.js';
import type { AuthUserListRequestIn as _etcdserverpb_AuthUserListRequestIn, AuthUserListRequest as _etcdserverpb_AuthUserListRequest } from '../etcdserverpb/AuthUserListRequest.js';
import type { AuthUserListResponseIn as _etcdserverpb_AuthUserListResponseIn, AuthUserListResponse as _etcdserverpb_AuthUserListResponse } from '../etcdserverpb/AuthUserListResponse.js';
import type { AuthUserRevokeRoleRequestIn as _etcdserverpb_AuthUserRevokeRoleRequestIn, AuthUserRevokeRoleRequest as _etcdserverpb_AuthUserRevokeRoleRequest } from '../etcdserverpb/AuthUserRevokeRoleRequest.js';
import type { AuthUserRevokeRoleResponseIn as _etcdserverpb_AuthUserRevokeRoleResponseIn, AuthUserRevokeRoleResponse as _etcdserverpb_AuthUserRevokeRoleResponse } from '../etcdserverpb/AuthUserRevokeRoleResponse.js';
import type { AuthenticateRequestIn as _etcdserverpb_AuthenticateRequestIn, AuthenticateRequest as _etcdserverpb_AuthenticateRequest } from '../etcdserverpb/AuthenticateRequest.js';
import type { AuthenticateResponseIn as _etcdserverpb_AuthenticateResponseIn, AuthenticateResponse as _etcdserverpb_AuthenticateResponse } from '../etcdserverpb/AuthenticateResponse.js';

export interface AuthDefinition {
  AuthDisable: MethodDefinition<_etcdserverpb_AuthDisableRequestIn, _etcdserverpb_AuthDisableResponseIn, _etcdserverpb_AuthDisableRequest, _etcdserverpb_AuthDisableResponse>
  AuthEnable: MethodDefinition<_etcdserverpb_AuthEnableRequestIn, _etcdserverpb_AuthEnableResponseIn, _etcdserverpb_AuthEnableRequest, _etcdserverpb_AuthEnableResponse>
  AuthStatus: MethodDefinition<_etcdserverpb_AuthStatusRequestIn, _etcdserverpb_AuthStatusResponseIn, _etcdserverpb_AuthStatusRequest, _etcdserverpb_AuthStatusResponse>
  Authenticate: MethodDefinition<_etcdserverpb_AuthenticateRequestIn, _etcdserverpb_AuthenticateResponseIn, _etcdserverpb_AuthenticateRequest, _etcdserverpb_AuthenticateResponse>
  RoleAdd: MethodDefinition<_etcdserverpb_AuthRoleAddRequestIn, _etcdserverpb_AuthRoleAddResponseIn, _etcdserverpb_AuthRoleAddRequest, _etcdserverpb_AuthRoleAddResponse>
  RoleDelete: MethodDefinition<_etcdserverpb_AuthRoleDeleteRequestIn, _etcdserverpb_AuthRoleDeleteResponseIn, _etcdserverpb_AuthRoleDeleteRequest, _etcdserverpb_AuthRoleDeleteResponse>
  RoleGet: MethodDefinition<_etcdserverpb_AuthRoleGetRequestIn, _etcdserverpb_AuthRoleGetResponseIn, _etcdserverpb_AuthRoleGetRequest, _etcdserverpb_AuthRoleGetResponse>
  RoleGrantPermission: MethodDefinition<_etcdserverpb_AuthRoleGrantPermissionRequestIn, _etcdserverpb_AuthRoleGrantPermissionResponseIn, _etcdserverpb_AuthRoleGrantPermissionRequest, _etcdserverpb_AuthRoleGrantPermissionResponse>
  RoleList: MethodDefinition<_etcdserverpb_AuthRoleListRequestIn, _etcdserverpb_AuthRoleListResponseIn, _etcdserverpb_AuthRoleListRequest, _etcdserverpb_AuthRoleListResponse>
  RoleRevokePermission: MethodDefinition<_etcdserverpb_AuthRoleRevokePermissionRequestIn, _etcdserverpb_AuthRoleRevokePermissionResponseIn, _etcdserverpb_AuthRoleRevokePermissionRequest, _etcdserverpb_AuthRoleRevokePermissionResponse>
  UserAdd: MethodDefinition<_etcdserverpb_AuthUserAddRequestIn, _etcdserverpb_AuthUserAddResponseIn, _etcdserverpb_AuthUserAddRequest, _etcdserverpb_AuthUserAddResponse>
  UserChangePassword: MethodDefinition<_etcdserverpb_AuthUserChangePasswordRequestIn, _etcdserverpb_AuthUserChangePasswordResponseIn, _etcdserverpb_AuthUserChangePasswordRequest, _etcdserverpb_AuthUserChangePasswordResponse>
  UserDelete: MethodDefinition<_etcdserverpb_AuthUserDeleteRequestIn, _etcdserverpb_AuthUserDeleteResponseIn, _etcdserverpb_AuthUserDeleteRequest, _etcdserverpb_AuthUserDeleteResponse>
  UserGet: MethodDefinition<_etcdserverpb_AuthUserGetRequestIn, _etcdserverpb_AuthUserGetResponseIn, _etcdserverpb_AuthUserGetRequest, _etcdserverpb_AuthUserGetResponse>
  UserGrantRole: MethodDefinition<_etcdserverpb_AuthUserGrantRoleRequestIn, _etcdserverpb_AuthUserGrantRoleResponseIn, _etcdserverpb_AuthUserGrantRoleRequest, _etcdserverpb_AuthUserGrantRoleResponse>
  UserList: MethodDefinition<_etcdserverpb_AuthUserListRequestIn, _etcdserverpb_AuthUserListResponseIn, _etcdserverpb_AuthUserListRequest, _etcdserverpb_AuthUserListResponse>
  UserRevokeRole: MethodDefinition<_etcdserverpb_AuthUserRevokeRoleRequestIn, _etcdserverpb_AuthUserRevokeRoleResponseIn, _etcdserverpb_AuthUserRevokeRoleRequest, _etcdserverpb_AuthUserRevokeRoleResponse>
}
