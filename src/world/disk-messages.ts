/**
 * The disk-server channel: every message between a VM's hypervisor and the shared disk server
 * (docs/design.md §5). In the browser these cross a thread boundary (vm worker ↔ world worker), so each
 * variant is plain structured-clone data (numbers, strings, booleans, Uint8Array) and is validated
 * on arrival (STYLE.md habit 4): a malformed message is rejected with a reason, never half-applied.
 */
import type { DiskRequest } from '../machine/types';

export type DiskErrorCode = 'out-of-range' | 'bad-length' | 'bad-request';

/** VM → disk server. */
export type DiskRequestMsg =
  | { kind: 'disk-read'; vm: string; id: number; sector: number; count: number }
  | { kind: 'disk-write'; vm: string; id: number; sector: number; count: number; data: Uint8Array }
  /** Test-and-set on the shared flag (docs/design.md §4 go-live); `epoch` names the current pair. */
  | { kind: 'tas-request'; vm: string; epoch: number };

/** Disk server → VM. */
export type DiskReplyMsg =
  | { kind: 'disk-read-ok'; vm: string; id: number; data: Uint8Array }
  | { kind: 'disk-write-ok'; vm: string; id: number }
  | { kind: 'disk-error'; vm: string; id: number; error: DiskErrorCode; detail: string }
  | { kind: 'tas-reply'; vm: string; epoch: number; won: boolean; holder: string | null; reason: TasReason };

/**
 * Why a test-and-set came out as it did: 'set' (flag was clear, now held by the caller),
 * 'already-holder' (the caller holds it already: a retried request whose reply was lost must not
 * make the winner halt), 'held' (someone else holds it), 'stale-epoch' (a request from a pair that
 * FT VMotion has since replaced).
 */
export type TasReason = 'set' | 'already-holder' | 'held' | 'stale-epoch';

export type DiskMessage = DiskRequestMsg | DiskReplyMsg;

export type Validated<T> = { ok: true; value: T } | { ok: false; error: string };

export function assertNever(x: never): never {
  throw new Error(`unhandled variant ${JSON.stringify(x)}`);
}

/** The machine's DiskRequest (src/machine/types.ts) as it travels to the disk server. */
export function diskRequestFromMachine(vm: string, req: DiskRequest): DiskRequestMsg {
  if (req.op === 'read') return { kind: 'disk-read', vm, id: req.id, sector: req.sector, count: req.count };
  return {
    kind: 'disk-write', vm, id: req.id, sector: req.sector, count: req.count,
    data: req.data ?? new Uint8Array(0),
  };
}

const KINDS = [
  'disk-read', 'disk-write', 'tas-request', 'disk-read-ok', 'disk-write-ok', 'disk-error', 'tas-reply',
] as const;
const ERROR_CODES: readonly string[] = ['out-of-range', 'bad-length', 'bad-request'];
const TAS_REASONS: readonly string[] = ['set', 'already-holder', 'held', 'stale-epoch'];

/** Checks the shape of a message that arrived from another thread. */
export function validateDiskMessage(x: unknown): Validated<DiskMessage> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return fail(`disk message is ${describe(x)}, expected an object`);
  const m = x as Record<string, unknown>;
  const kind = m.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    return fail(`disk message kind ${describe(kind)} is not one of ${KINDS.join(', ')}`);
  }
  const k = kind as DiskMessage['kind'];
  const error = checkVm(m) ?? checkFields(k, m);
  return error ? fail(`${k}: ${error}`) : { ok: true, value: m as unknown as DiskMessage };
}

function checkFields(kind: DiskMessage['kind'], m: Record<string, unknown>): string | null {
  switch (kind) {
    case 'disk-read':
      return checkUint(m, 'id') ?? checkUint(m, 'sector') ?? checkUint(m, 'count');
    case 'disk-write':
      return checkUint(m, 'id') ?? checkUint(m, 'sector') ?? checkUint(m, 'count') ?? checkBytes(m, 'data');
    case 'tas-request':
      return checkUint(m, 'epoch');
    case 'disk-read-ok':
      return checkUint(m, 'id') ?? checkBytes(m, 'data');
    case 'disk-write-ok':
      return checkUint(m, 'id');
    case 'disk-error':
      return checkUint(m, 'id') ?? checkOneOf(m, 'error', ERROR_CODES) ?? checkString(m, 'detail');
    case 'tas-reply':
      return checkUint(m, 'epoch') ?? checkBool(m, 'won') ?? checkHolder(m) ?? checkOneOf(m, 'reason', TAS_REASONS);
    default:
      return assertNever(kind);
  }
}

function checkVm(m: Record<string, unknown>): string | null {
  const vm = m.vm;
  if (typeof vm !== 'string' || vm.length === 0 || vm.length > 16) return `vm is ${describe(vm)}, expected a VM name`;
  return null;
}

function checkUint(m: Record<string, unknown>, field: string): string | null {
  const v = m[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    return `${field} is ${describe(v)}, expected a non-negative integer`;
  }
  return null;
}

function checkBytes(m: Record<string, unknown>, field: string): string | null {
  return m[field] instanceof Uint8Array ? null : `${field} is ${describe(m[field])}, expected a Uint8Array`;
}

function checkString(m: Record<string, unknown>, field: string): string | null {
  return typeof m[field] === 'string' ? null : `${field} is ${describe(m[field])}, expected a string`;
}

function checkBool(m: Record<string, unknown>, field: string): string | null {
  return typeof m[field] === 'boolean' ? null : `${field} is ${describe(m[field])}, expected a boolean`;
}

function checkOneOf(m: Record<string, unknown>, field: string, allowed: readonly string[]): string | null {
  const v = m[field];
  return typeof v === 'string' && allowed.includes(v) ? null : `${field} is ${describe(v)}, expected one of ${allowed.join(', ')}`;
}

function checkHolder(m: Record<string, unknown>): string | null {
  const h = m.holder;
  return h === null || (typeof h === 'string' && h.length > 0) ? null : `holder is ${describe(h)}, expected a VM name or null`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

const REQUEST_KINDS: readonly string[] = ['disk-read', 'disk-write', 'tas-request'];

/** A message arriving at the disk server: valid, and a request rather than a reply. */
export function validateDiskRequest(x: unknown): Validated<DiskRequestMsg> {
  const v = validateDiskMessage(x);
  if (!v.ok) return v;
  if (!REQUEST_KINDS.includes(v.value.kind)) return fail(`${v.value.kind} is a reply, expected a request`);
  return { ok: true, value: v.value as DiskRequestMsg };
}

/** A message arriving at a VM from the disk server: valid, and a reply rather than a request. */
export function validateDiskReply(x: unknown): Validated<DiskReplyMsg> {
  const v = validateDiskMessage(x);
  if (!v.ok) return v;
  if (REQUEST_KINDS.includes(v.value.kind)) return fail(`${v.value.kind} is a request, expected a reply`);
  return { ok: true, value: v.value as DiskReplyMsg };
}
