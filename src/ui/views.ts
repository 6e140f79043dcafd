/**
 * From the runtime's host views to the cards' views: the pair's lag in instructions, the sync
 * badge, and the current instruction disassembled from the guest's own ELF.
 */
import type { HostView } from '../ft/host-types';
import { parseElf, type ElfImage } from '../machine/elf';
import { disassembleAt } from '../machine/disasm';
import type { SyncStatus, VmView } from './store';

/** The peer a view is paired with, if it is still in the run. */
function peerOf(v: HostView, all: readonly HostView[]): HostView | null {
  return v.peer === null ? null : all.find((x) => x.name === v.peer) ?? null;
}

export function syncOf(v: HostView, all: readonly HostView[]): SyncStatus {
  if (v.role === 'crashed' || v.role === 'halted') return 'stopped';
  if (v.role === 'live') return 'alone';
  const backup = v.role === 'backup' ? v : peerOf(v, all);
  if (!backup || backup.role !== 'backup') return 'alone';
  if (backup.divergence) return 'diverged';
  return backup.backupReady && backup.hashesChecked > 0 ? 'in-sync' : 'syncing';
}

/** Instructions the backup is behind its primary (both cards of a pair show it). */
export function lagInstructionsOf(v: HostView, all: readonly HostView[]): number {
  const peer = peerOf(v, all);
  if (!peer || peer.role === 'crashed') return 0;
  if (v.role === 'primary' && peer.role === 'backup') return Math.max(0, v.icount - peer.icount);
  if (v.role === 'backup' && peer.role === 'primary') return Math.max(0, peer.icount - v.icount);
  return 0;
}

/** The lag in µs, as the primary measures it from acks; a backup shows its primary's figure. */
export function lagUsOf(v: HostView, all: readonly HostView[]): number {
  if (v.role === 'primary') return v.lagUs;
  const peer = peerOf(v, all);
  return v.role === 'backup' && peer?.role === 'primary' ? peer.lagUs : 0;
}

function parseOrNull(elf: Uint8Array): ElfImage | null {
  try {
    return parseElf(elf);
  } catch {
    return null; // the runtime refused it with the loader's message; the card shows no instruction
  }
}

/** Reads instructions out of the guest's ELF image (its code does not change as it runs). */
export class CodeReader {
  private readonly image: ElfImage | null;
  private readonly cache = new Map<number, string>();

  constructor(elf: Uint8Array | null) {
    this.image = elf ? parseOrNull(elf) : null;
  }

  /** "addi a0,a0,1", or '' when pc is outside every loaded segment. */
  at(pc: number): string {
    const hit = this.cache.get(pc);
    if (hit !== undefined) return hit;
    let text = '';
    for (const seg of this.image?.segments ?? []) {
      const off = (pc >>> 0) - seg.vaddr;
      if (off >= 0 && off + 2 <= seg.data.length) {
        text = disassembleAt(seg.data, off, pc >>> 0).text;
        break;
      }
    }
    if (this.cache.size > 4096) this.cache.clear();
    this.cache.set(pc, text);
    return text;
  }
}

export function cardViews(views: readonly HostView[], code: CodeReader): VmView[] {
  return views.map((v) => ({
    ...v,
    lagUs: lagUsOf(v, views),
    lagInstructions: lagInstructionsOf(v, views),
    sync: syncOf(v, views),
    insn: code.at(v.pc),
  }));
}
