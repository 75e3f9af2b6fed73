//! `__global__` entry names read from what nvcc produced: PTX text (`.entry`), cubin ELF
//! symbols (marked `STO_CUDA_ENTRY`), fatbin containers and host objects (`.nv_fatbin`).
//! Every reader is bounds-checked: malformed input yields fewer names, never a panic.

/// `st_other` flag nvcc sets on kernel entry symbols.
const STO_CUDA_ENTRY: u8 = 0x10;
const FATBIN_MAGIC: u32 = 0xBA55_ED50;
/// Entry flags meaning the payload is compressed (we do not decompress).
const FATBIN_COMPRESSED: u64 = 0x2000 | 0x8000;

/// What was found: names, and whether some content could not be read (compressed).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Entries {
    pub names: Vec<String>,
    /// Some content was compressed AND nothing else could be read: the names may be missing.
    pub unreadable: bool,
    /// An uncompressed image (ELF or PTX) was read: it lists every kernel, even none.
    read_plain: bool,
}

impl Entries {
    fn add(&mut self, name: &str) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_owned());
        }
    }
}

/// Entries of any nvcc output: PTX, cubin, fatbin or host object.
pub(crate) fn read(bytes: &[u8]) -> Entries {
    let mut e = Entries::default();
    if bytes.starts_with(b"\x7fELF") {
        elf(bytes, &mut e);
    } else if u32_at(bytes, 0) == Some(FATBIN_MAGIC) {
        fatbin(bytes, &mut e);
    } else {
        ptx(&String::from_utf8_lossy(bytes), &mut e);
    }
    // A fatbin whose SASS was read but whose PTX is compressed (nvcc 12.8+ compresses PTX)
    // has its names; only content that is all compressed leaves them unknown.
    e.unreadable &= !e.read_plain;
    e.names.sort();
    e
}

/// Names declared by `.entry NAME(` (after `.visible`, `.weak`...), on one line as nvcc
/// writes them. `match_indices` runs std's searcher: a build script runs unoptimized, where
/// splitting every line of a 10 MB PTX into words took 0.4 s of the job's token.
fn ptx(text: &str, e: &mut Entries) {
    const ENTRY: &str = ".entry";
    for (at, _) in text.match_indices(ENTRY) {
        let word_start = text[..at].chars().next_back().is_none_or(char::is_whitespace);
        let line = text[at + ENTRY.len()..].split('\n').next().unwrap_or("");
        if !word_start || !line.starts_with(char::is_whitespace) {
            continue; // part of a longer word (`.entry_x`, `x.entry`)
        }
        let name = line.split_whitespace().next().unwrap_or("");
        let name = name.split('(').next().unwrap_or("");
        if !name.is_empty() {
            e.add(name);
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at.checked_add(8)?)?.try_into().ok()?))
}
fn slice(b: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    let off = usize::try_from(off).ok()?;
    let end = off.checked_add(usize::try_from(len).ok()?)?;
    b.get(off..end)
}

/// A 64-bit little-endian ELF: cubin (entry symbols) or host object (`.nv_fatbin`).
fn elf(b: &[u8], e: &mut Entries) {
    let _ = elf_inner(b, e);
}

fn elf_inner(b: &[u8], e: &mut Entries) -> Option<()> {
    if b.get(4) != Some(&2) || b.get(5) != Some(&1) {
        return None; // only ELF64 little-endian is produced by nvcc for the targets we build
    }
    let shoff = u64_at(b, 0x28)?;
    let shentsize = u64::from(u16_at(b, 0x3A)?);
    let shnum = u64::from(u16_at(b, 0x3C)?);
    let shstrndx = u64::from(u16_at(b, 0x3E)?);
    let section = |i: u64| -> Option<(u32, u32, u64, u64, u32)> {
        let h = slice(b, shoff.checked_add(i.checked_mul(shentsize)?)?, 64)?;
        Some((u32_at(h, 0)?, u32_at(h, 4)?, u64_at(h, 24)?, u64_at(h, 32)?, u32_at(h, 40)?))
    };
    let (_, _, stroff, strsize, _) = section(shstrndx)?;
    let shstr = slice(b, stroff, strsize)?;
    for i in 0..shnum {
        let Some((name, kind, off, size, link)) = section(i) else { continue };
        let sec_name = cstr(shstr, name as usize);
        if sec_name == ".nv_fatbin" {
            if let Some(data) = slice(b, off, size) {
                fatbin(data, e);
            }
        }
        if kind == 2 {
            // SHT_SYMTAB: entries are FUNC symbols flagged STO_CUDA_ENTRY.
            let Some(syms) = slice(b, off, size) else { continue };
            let Some((_, _, soff, ssize, _)) = section(u64::from(link)) else { continue };
            let Some(strtab) = slice(b, soff, ssize) else { continue };
            for sym in syms.chunks_exact(24) {
                let (Some(st_name), Some(&info), Some(&other)) = (u32_at(sym, 0), sym.get(4), sym.get(5)) else {
                    continue;
                };
                if info & 0xf == 2 && other & STO_CUDA_ENTRY != 0 {
                    let n = cstr(strtab, st_name as usize);
                    if !n.is_empty() {
                        e.add(n);
                    }
                }
            }
        }
    }
    Some(())
}

fn cstr(table: &[u8], at: usize) -> &str {
    let rest = table.get(at..).unwrap_or(&[]);
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).unwrap_or("")
}

/// One or more fatbin containers back to back (a host object may hold several).
fn fatbin(mut b: &[u8], e: &mut Entries) {
    while u32_at(b, 0) == Some(FATBIN_MAGIC) {
        let (Some(hsize), Some(fat)) = (u16_at(b, 6), u64_at(b, 8)) else { return };
        let Some(body) = slice(b, u64::from(hsize), fat) else { return };
        let mut at = 0u64;
        while let Some(h) = slice(body, at, 0x40) {
            let (Some(kind), Some(ehsize), Some(size), Some(flags)) =
                (u16_at(h, 0), u32_at(h, 4), u64_at(h, 8), u64_at(h, 0x28))
            else {
                return;
            };
            if ehsize == 0 {
                return;
            }
            if let Some(payload) = at.checked_add(u64::from(ehsize)).and_then(|p| slice(body, p, size)) {
                if flags & FATBIN_COMPRESSED != 0 {
                    e.unreadable = true;
                } else if kind == 2 {
                    e.read_plain = true;
                    elf(payload, e);
                } else if kind == 1 {
                    e.read_plain = true;
                    ptx(&String::from_utf8_lossy(payload), e);
                }
            }
            let Some(next) = at.checked_add(u64::from(ehsize)).and_then(|n| n.checked_add(size)) else { return };
            at = next;
        }
        let Some(rest) = usize::try_from(u64::from(hsize) + fat).ok().and_then(|n| b.get(n..)) else { return };
        // Containers in a section are aligned; skip padding zeros.
        let skip = rest.iter().take(64).take_while(|&&c| c == 0).count();
        b = &rest[skip..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptx_entries() {
        let text =
            ".version 8.5\n.visible .entry vadd(\n\t.param .u64 p\n)\n.entry _Z5scaleIfEvPT_S0_i(\n.func helper(";
        assert_eq!(read(text.as_bytes()).names, ["_Z5scaleIfEvPT_S0_i", "vadd"]);
        // Only a word of its own, with the name on its line.
        let text = ".entry\nnot_this(\n.entryx a(\nx.entry b(\n.weak .entry  c()\n\t.entry d\r\n.entry";
        assert_eq!(read(text.as_bytes()).names, ["c", "d"]);
    }

    #[test]
    fn truncated_or_garbage_binaries_do_not_panic() {
        let mut elf = b"\x7fELF\x02\x01".to_vec();
        elf.resize(80, 0xff);
        for cut in 0..elf.len() {
            let _ = read(&elf[..cut]);
        }
        let mut fat = FATBIN_MAGIC.to_le_bytes().to_vec();
        fat.extend([1, 0, 0x10, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        fat.resize(200, 0xee);
        for cut in 0..fat.len() {
            let _ = read(&fat[..cut]);
        }
    }
}
