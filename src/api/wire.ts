/**
 * The etcdserverpb, v3lockpb and v3electionpb messages src/api handles, by the names its
 * handlers use, as generated from proto/ (proto/gen, `npm run gen:proto`; never written by hand).
 *
 * Requests arrive in the shape the protobuf layer hands them over (proto.ts's MESSAGE_OPTIONS):
 * field names as in the .proto files, 64-bit integers as decimal strings, bytes as Buffers,
 * enums as numbers, every absent field at its default, and a oneof's member set only when
 * present (plus the oneof's name holding which one). The gRPC services and the JSON gateway both
 * decode into these shapes, so one set of handlers serves both.
 *
 * Responses are built as the generated input types (`...In`): what protobufjs's `fromObject`
 * accepts. Revisions and counts go out as numbers (safe integers), 64-bit ids as decimal
 * strings, bytes as Uint8Arrays; absent fields are left out.
 */
import type * as pb from '../../proto/gen/index.js';

/** A 64-bit integer as decoded: a decimal string (possibly negative for int64). */
export type Int64String = string;

export type RangeRequestMsg = pb.RangeRequest;
export type PutRequestMsg = pb.PutRequest;
export type DeleteRangeRequestMsg = pb.DeleteRangeRequest;
export type RequestOpMsg = pb.RequestOp;
export type CompareMsg = pb.Compare;
export type TxnRequestMsg = pb.TxnRequest;
export type CompactionRequestMsg = pb.CompactionRequest;
export type HashKVRequestMsg = pb.HashKVRequest;
export type MoveLeaderRequestMsg = pb.MoveLeaderRequest;
export type MemberAddRequestMsg = pb.MemberAddRequest;
/** MemberRemoveRequest and MemberPromoteRequest. */
export type MemberIdRequestMsg = pb.MemberRemoveRequest | pb.MemberPromoteRequest;
export type MemberUpdateRequestMsg = pb.MemberUpdateRequest;
export type MemberListRequestMsg = pb.MemberListRequest;

export type WatchCreateRequestMsg = pb.WatchCreateRequest;
export type WatchRequestMsg = pb.WatchRequest;

export type LeaseGrantRequestMsg = pb.LeaseGrantRequest;
/** LeaseRevokeRequest and LeaseKeepAliveRequest. */
export type LeaseIdRequestMsg = pb.LeaseRevokeRequest | pb.LeaseKeepAliveRequest;
export type LeaseTimeToLiveRequestMsg = pb.LeaseTimeToLiveRequest;

export type LockRequestMsg = pb.LockRequest;
export type UnlockRequestMsg = pb.UnlockRequest;
export type LeaderKeyMsg = pb.LeaderKey;
export type CampaignRequestMsg = pb.CampaignRequest;
/** LeaderRequest (Leader and Observe). */
export type LeaderRequestMsg = pb.LeaderRequest;
/** `leader` is null when the client left it out. */
export type ProclaimRequestMsg = pb.ProclaimRequest;
export type ResignRequestMsg = pb.ResignRequest;

// ---- responses ---------------------------------------------------------------------------------

export type ResponseHeaderOut = pb.ResponseHeaderIn;
export type KeyValueOut = pb.KeyValueIn;
export type MemberOut = pb.MemberIn;

/** What every handler returns: a response message as `fromObject` takes it. */
export type ResponseOut = object;
