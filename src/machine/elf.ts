/**
 * ELF32 little-endian RISC-V executable parser (System V gABI, "ELF-64 Object File Format" and the
 * RISC-V ELF psABI). A pure parse with full validation: it returns the loadable segments and the
 * symbol table (for `tohost`) and loads nothing, so a bad file never leaves a half-loaded machine.
 */

export class ElfError extends Error {
  override name = 'ElfError';
}

export interface ElfSegment {
  vaddr: number;
  /** Where the segment's bytes start in the file (p_offset). */
  fileOffset: number;
  /** The file bytes of the segment (p_filesz); memsz - data.length bytes of zeros follow. */
  data: Uint8Array;
  memsz: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  symbols: Map<string, number>;
}

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const EI_CLASS = 4;
const EI_DATA = 5;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const EM_RISCV = 243;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const EHDR_BYTES = 52;
const PHDR_BYTES = 32;
const SHDR_BYTES = 40;
const SYM_BYTES = 16;

/** Parse and validate; throws ElfError naming the first thing wrong. */
export function parseElf(bytes: Uint8Array): ElfImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkIdent(bytes, view);
  if (bytes.length < EHDR_BYTES) throw new ElfError(`truncated ELF header: file is ${bytes.length} bytes, the header needs ${EHDR_BYTES}`);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_RISCV) throw new ElfError(`e_machine is ${machine}, not RISC-V (${EM_RISCV})`);
  if (type !== ET_EXEC) throw new ElfError(`e_type is ${type}, not an executable (ET_EXEC = ${ET_EXEC})`);
  const entry = view.getUint32(24, true);
  const segments = parseSegments(bytes, view);
  const symbols = parseSymbols(bytes, view);
  return { entry, segments, symbols };
}

function checkIdent(bytes: Uint8Array, view: DataView): void {
  if (bytes.length < 16 || view.getUint32(0, true) !== ELF_MAGIC) {
    if (bytes.length >= 4 && view.getUint32(0, true) === ELF_MAGIC) throw new ElfError(`truncated ELF identification: file is ${bytes.length} bytes`);
    throw new ElfError('not an ELF file (bad magic: expected 7f 45 4c 46)');
  }
  if (bytes[EI_CLASS] === ELFCLASS64) throw new ElfError('ELFCLASS64: this is a 64-bit ELF; the machine is RV32 and needs ELFCLASS32');
  if (bytes[EI_CLASS] !== ELFCLASS32) throw new ElfError(`unknown ELF class ${bytes[EI_CLASS]}`);
  if (bytes[EI_DATA] !== ELFDATA2LSB) throw new ElfError(`ELF data encoding ${bytes[EI_DATA]} is not little-endian (big-endian ELF files are not supported)`);
}

/** [off, off+len) lies inside the file. */
function inFile(bytes: Uint8Array, off: number, len: number): boolean {
  return off <= bytes.length && len <= bytes.length - off;
}

function parseSegments(bytes: Uint8Array, view: DataView): ElfSegment[] {
  const phoff = view.getUint32(28, true);
  const phentsize = view.getUint16(42, true);
  const phnum = view.getUint16(44, true);
  if (phnum === 0) throw new ElfError('no program headers: the file has zero segments to load');
  if (phentsize < PHDR_BYTES) throw new ElfError(`e_phentsize ${phentsize} is smaller than an ELF32 program header (${PHDR_BYTES})`);
  if (!inFile(bytes, phoff, phnum * phentsize)) {
    throw new ElfError(`truncated program header table: ${phnum} entries at offset ${phoff} run past the end of the ${bytes.length}-byte file`);
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD) continue;
    const offset = view.getUint32(at + 4, true);
    const vaddr = view.getUint32(at + 8, true);
    const filesz = view.getUint32(at + 16, true);
    const memsz = view.getUint32(at + 20, true);
    if (filesz > memsz) throw new ElfError(`segment ${i}: p_filesz ${filesz} exceeds p_memsz ${memsz}`);
    if (!inFile(bytes, offset, filesz)) {
      throw new ElfError(`segment ${i} lies outside the file: bytes ${offset}..${offset + filesz} of a ${bytes.length}-byte file`);
    }
    if (vaddr + memsz > 0x1_0000_0000) throw new ElfError(`segment ${i} at 0x${vaddr.toString(16)} (+${memsz}) wraps the 32-bit address space`);
    if (memsz === 0) continue;
    segments.push({ vaddr, fileOffset: offset, data: bytes.slice(offset, offset + filesz), memsz });
  }
  if (segments.length === 0) throw new ElfError('zero loadable segments (no PT_LOAD with a nonzero size)');
  return segments;
}

/** Symbols from the SHT_SYMTAB section and its linked string table; empty when there is none. */
function parseSymbols(bytes: Uint8Array, view: DataView): Map<string, number> {
  const symbols = new Map<string, number>();
  const shoff = view.getUint32(32, true);
  const shentsize = view.getUint16(46, true);
  const shnum = view.getUint16(48, true);
  if (shoff === 0 || shnum === 0) return symbols;
  if (shentsize < SHDR_BYTES) throw new ElfError(`e_shentsize ${shentsize} is smaller than an ELF32 section header (${SHDR_BYTES})`);
  if (!inFile(bytes, shoff, shnum * shentsize)) {
    throw new ElfError(`truncated section table: ${shnum} entries at offset ${shoff} run past the end of the ${bytes.length}-byte file`);
  }
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (view.getUint32(sh + 4, true) !== SHT_SYMTAB) continue;
    const symOff = view.getUint32(sh + 16, true);
    const symSize = view.getUint32(sh + 20, true);
    const link = view.getUint32(sh + 24, true);
    if (!inFile(bytes, symOff, symSize)) throw new ElfError(`truncated symbol table: section ${i} runs past the end of the file`);
    if (link >= shnum) throw new ElfError(`symbol table section ${i} links to string table ${link}, which does not exist`);
    const strSh = shoff + link * shentsize;
    const strOff = view.getUint32(strSh + 16, true);
    const strSize = view.getUint32(strSh + 20, true);
    if (!inFile(bytes, strOff, strSize)) throw new ElfError(`truncated string table: section ${link} runs past the end of the file`);
    const strtab = bytes.subarray(strOff, strOff + strSize);
    for (let s = symOff; s + SYM_BYTES <= symOff + symSize; s += SYM_BYTES) {
      const name = readName(strtab, view.getUint32(s, true));
      if (name !== '' && !symbols.has(name)) symbols.set(name, view.getUint32(s + 4, true));
    }
  }
  return symbols;
}

function readName(strtab: Uint8Array, at: number): string {
  if (at >= strtab.length) throw new ElfError(`symbol name offset ${at} is outside its ${strtab.length}-byte string table`);
  let end = at;
  while (end < strtab.length && strtab[end] !== 0) end++;
  return new TextDecoder().decode(strtab.subarray(at, end));
}

/**
 * A copy of the ELF file with the 32-bit word at symbol `name` set to `value` in its loaded data:
 * a guest's parameter (bench_rounds, mark_iterations) chosen before it boots.
 */
export function withElfWord(bytes: Uint8Array, name: string, value: number): Uint8Array {
  const image = parseElf(bytes);
  const addr = image.symbols.get(name);
  if (addr === undefined) throw new ElfError(`no symbol ${name} in the ELF file`);
  const seg = image.segments.find((g) => addr >= g.vaddr && addr + 4 <= g.vaddr + g.data.length);
  if (!seg) throw new ElfError(`symbol ${name} at 0x${addr.toString(16)} is not in a segment's file data`);
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(seg.fileOffset + addr - seg.vaddr, value >>> 0, true);
  return out;
}
