/**
 * src/mvcc: etcd's multi-version KV store on an abstract-level database. This is the one export
 * list; everything else in the folder is internal.
 */
export { MvccStore, type CompactionHandle, type MvccStoreOptions } from './store.js';
export { ApplyGroup } from './apply-group.js';
export type { HistoryBatch } from './history.js';
export { WriteTxn, type ExtraOp } from './write-txn.js';
export type { MvccDb } from './store-core.js';
export type { BatchOp, RawBatchWriter } from './db-batch.js';
export {
  checkDeleteRangeRequest,
  checkIntervals,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
} from './request-checks.js';
export { isTxnReadOnly } from './txn.js';
export {
  CompareResult,
  CompareTarget,
  EventType,
  SortOrder,
  SortTarget,
  type Applied,
  type Compare,
  type DeleteRangeOptions,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type DeleteRangeResult,
  type Event,
  type KeyValue,
  type KeyValueHash,
  type PutOptions,
  type PutRequest,
  type PutResponse,
  type PutResult,
  type RangeOptions,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
  type TxnResult,
} from './types.js';
