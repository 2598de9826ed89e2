/**
 * The etcd versions tsetcd speaks for, as /version reports them. Clients use them to decide
 * which API features to use, so they name the etcd release whose API we implement.
 */
export const SERVER_VERSION = '3.4.0';
export const CLUSTER_VERSION = '3.4.0';
