//! Per-node clock skew with libfaketime: a node started with [`ClockFile::env`] reads its
//! offset from its own file on every clock call (`FAKETIME_NO_CACHE=1`), so rewriting the file
//! skews that node alone, wall clock and monotonic clock alike, while it runs. The machine's
//! clock is never touched.
//!
//! It cannot work on Go binaries (they read the clock through the vDSO directly, not through
//! libc) nor on statically linked ones (nothing to preload into): [`can_skew`] says so, and the
//! harness reports it instead of pretending.

use std::path::{Path, PathBuf};

/// The file in a run's scratch directory that holds the system clock's restore anchor.
pub const SYSTEM_CLOCK_RECORD: &str = "system-clock.restore";

/// Debian's libfaketime (package `libfaketime`).
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// One node's clock offset file.
#[derive(Debug, Clone)]
pub struct ClockFile {
    path: PathBuf,
}

impl ClockFile {
    /// Creates the file with no offset.
    pub fn create(path: &Path) -> std::io::Result<ClockFile> {
        let file = ClockFile { path: path.to_path_buf() };
        file.set_offset_ms(0)?;
        Ok(file)
    }

    /// The environment that makes a process read its clock through this file.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("LD_PRELOAD".into(), LIBFAKETIME.into()),
            ("FAKETIME_TIMESTAMP_FILE".into(), self.path.display().to_string()),
            ("FAKETIME_NO_CACHE".into(), "1".into()),
        ]
    }

    /// Sets the node's clock to real time plus `ms` milliseconds (negative: behind).
    pub fn set_offset_ms(&self, ms: i64) -> std::io::Result<()> {
        // libfaketime's relative format: a sign, then seconds (a '.' fraction in the C locale).
        let text = format!("{}{}.{:03}\n", if ms < 0 { '-' } else { '+' }, ms.unsigned_abs() / 1000, ms.unsigned_abs() % 1000);
        // Write beside and rename, so a reader never sees half a line.
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.path)
    }
}

impl ClockFile {
    /// The offset the file holds now, in milliseconds.
    pub fn offset_ms(&self) -> std::io::Result<i64> {
        let text = std::fs::read_to_string(&self.path)?;
        let t = text.trim();
        let (sign, rest) = match t.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, t.trim_start_matches('+')),
        };
        let (secs, frac) = rest.split_once('.').unwrap_or((rest, "0"));
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: not an offset: {t:?}", self.path.display()));
        let secs: i64 = secs.parse().map_err(|_| bad())?;
        let millis: i64 = format!("{frac:0<3}")[..3].parse().map_err(|_| bad())?;
        Ok(sign * (secs * 1000 + millis))
    }
}

/// Why a binary cannot be skewed with libfaketime, if it cannot.
pub fn can_skew(program: &str) -> Result<(), String> {
    if !Path::new(LIBFAKETIME).exists() {
        return Err(format!("libfaketime is not installed ({LIBFAKETIME}): apt-get install -y libfaketime"));
    }
    let path = resolve(program).ok_or_else(|| format!("`{program}` not found"))?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let elf = Elf::parse(&bytes).ok_or_else(|| format!("{} is not a 64-bit ELF executable", path.display()))?;
    if elf.has_section(".go.buildinfo") {
        return Err(format!("{} is a Go binary: it reads the clock through the vDSO, which libfaketime cannot intercept", path.display()));
    }
    if !elf.has_interpreter() {
        return Err(format!("{} is statically linked: libfaketime cannot be preloaded into it", path.display()));
    }
    Ok(())
}

/// Just enough of a 64-bit little-endian ELF file to tell Go and static binaries apart (their
/// section names and program headers, not a search for magic bytes, which any program that
/// mentions them would contain).
struct Elf<'a> {
    bytes: &'a [u8],
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Elf<'a>> {
        (bytes.len() >= 64 && bytes[..4] == *b"\x7fELF" && bytes[4] == 2 && bytes[5] == 1).then_some(Elf { bytes })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes.get(at..at + 2)?.try_into().ok()?))
    }
    fn u32_at(&self, at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes.get(at..at + 4)?.try_into().ok()?))
    }
    fn u64_at(&self, at: usize) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes.get(at..at + 8)?.try_into().ok()?))
    }

    /// Whether a program header of type PT_INTERP (a dynamic loader) exists.
    fn has_interpreter(&self) -> bool {
        let (Some(phoff), Some(size), Some(count)) = (self.u64_at(0x20), self.u16_at(0x36), self.u16_at(0x38)) else { return false };
        (0..count as usize).any(|i| self.u32_at(phoff as usize + i * size as usize) == Some(3))
    }

    /// Whether a section of this name exists.
    fn has_section(&self, name: &str) -> bool {
        let (Some(shoff), Some(size), Some(count), Some(names)) =
            (self.u64_at(0x28), self.u16_at(0x3A), self.u16_at(0x3C), self.u16_at(0x3E))
        else {
            return false;
        };
        let header = |i: usize| shoff as usize + i * size as usize;
        let Some(strtab) = self.u64_at(header(names as usize) + 0x18) else { return false };
        (0..count as usize).any(|i| {
            let Some(offset) = self.u32_at(header(i)) else { return false };
            let start = strtab as usize + offset as usize;
            self.bytes.get(start..start + name.len() + 1).is_some_and(|s| &s[..name.len()] == name.as_bytes() && s[name.len()] == 0)
        })
    }
}

fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_written_in_libfaketime_format() {
        let path = std::env::temp_dir().join(format!("faultline-clock-{}", std::process::id()));
        let f = ClockFile::create(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "+0.000\n");
        f.set_offset_ms(-2500).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "-2.500\n");
        assert_eq!(f.offset_ms().unwrap(), -2500);
        f.set_offset_ms(120_007).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "+120.007\n");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn libc_binaries_can_be_skewed_and_go_binaries_cannot() {
        if !Path::new(LIBFAKETIME).exists() {
            eprintln!("SKIPPED: libfaketime not installed");
            return;
        }
        assert_eq!(can_skew("date"), Ok(()));
        // faultline itself (the bundled node): a dynamically linked Rust binary.
        let me = std::env::current_exe().unwrap();
        assert_eq!(can_skew(me.to_str().unwrap()), Ok(()), "this test binary can be skewed");
        if resolve("etcd").is_some() {
            let e = can_skew("etcd").unwrap_err();
            assert!(e.contains("Go binary"), "{e}");
        }
    }
}

/// The machine's own wall clock, moved with `clock_settime` (Jepsen's bump on real hosts). It
/// moves every process on the machine: only for a single local node or real hosts, and only
/// when asked for explicitly.
///
/// Before the first shift it notes an anchor — the real time at a moment of `CLOCK_BOOTTIME`,
/// which no `clock_settime` moves — and writes it to its record file, so that the true time is
/// always known: every shift sets an absolute target (true time + offset), and the restore sets
/// the true time itself, exactly (no drift from adding and subtracting). If faultline is killed
/// mid-fault, `faultline clean` finds the record and restores the clock from it
/// ([`restore_from_record`]).
#[derive(Debug, Default)]
pub struct SystemClock {
    applied_ms: i64,
    anchor: Option<Anchor>,
    record: Option<PathBuf>,
}

/// Real time (ns since the epoch) at a moment of `CLOCK_BOOTTIME` (ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// `CLOCK_BOOTTIME` then.
    pub boot_ns: i128,
    /// `CLOCK_REALTIME` then, before any shift.
    pub real_ns: i128,
}

impl Anchor {
    /// The true real time when `CLOCK_BOOTTIME` reads `boot_ns`.
    pub fn real_at(&self, boot_ns: i128) -> i128 {
        self.real_ns + (boot_ns - self.boot_ns)
    }

    fn parse(text: &str) -> Option<Anchor> {
        let mut words = text.split_whitespace();
        Some(Anchor { boot_ns: words.next()?.parse().ok()?, real_ns: words.next()?.parse().ok()? })
    }
}

fn now_ns(clock: nix::time::ClockId) -> std::io::Result<i128> {
    let t = nix::time::clock_gettime(clock)?;
    Ok(t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128)
}

fn set_real_ns(ns: i128) -> std::io::Result<()> {
    let spec = nix::sys::time::TimeSpec::new((ns.div_euclid(1_000_000_000)) as i64, (ns.rem_euclid(1_000_000_000)) as i64);
    Ok(nix::time::clock_settime(nix::time::ClockId::CLOCK_REALTIME, spec)?)
}

impl SystemClock {
    /// A clock that keeps its restore record at `record` (in the run's scratch directory).
    pub fn with_record(record: PathBuf) -> SystemClock {
        SystemClock { record: Some(record), ..SystemClock::default() }
    }

    /// Moves the wall clock by `ms` milliseconds more (negative: back); the target is absolute,
    /// the true time plus every shift applied so far.
    pub fn shift_ms(&mut self, ms: i64) -> std::io::Result<()> {
        use nix::time::ClockId;
        let anchor = match self.anchor {
            Some(a) => a,
            None => {
                let a = Anchor { boot_ns: now_ns(ClockId::CLOCK_BOOTTIME)?, real_ns: now_ns(ClockId::CLOCK_REALTIME)? };
                // On disk before the clock moves: a killed run can always be undone.
                if let Some(path) = &self.record {
                    let file = std::fs::File::create(path)?;
                    std::io::Write::write_all(&mut &file, format!("{} {}\n", a.boot_ns, a.real_ns).as_bytes())?;
                    file.sync_all()?;
                }
                self.anchor = Some(a);
                a
            }
        };
        let target = self.applied_ms + ms;
        set_real_ns(anchor.real_at(now_ns(ClockId::CLOCK_BOOTTIME)?) + target as i128 * 1_000_000)?;
        self.applied_ms = target;
        Ok(())
    }

    /// The net shift currently applied.
    pub fn applied_ms(&self) -> i64 {
        self.applied_ms
    }

    /// Sets the true time again and forgets the anchor (and its record).
    pub fn restore(&mut self) -> std::io::Result<()> {
        if let Some(anchor) = self.anchor {
            set_real_ns(anchor.real_at(now_ns(nix::time::ClockId::CLOCK_BOOTTIME)?))?;
            self.applied_ms = 0;
            self.anchor = None;
            if let Some(path) = &self.record {
                let _ = std::fs::remove_file(path);
            }
        }
        Ok(())
    }
}

/// Restores the machine's clock from a record left by a run that was killed mid-fault, and
/// removes the record: `Ok(Some(ms))` with how far off the clock was, `Ok(None)` if there is
/// no record.
pub fn restore_from_record(path: &Path) -> std::io::Result<Option<f64>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let anchor = Anchor::parse(&text)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: not a clock record", path.display())))?;
    let truth = anchor.real_at(now_ns(nix::time::ClockId::CLOCK_BOOTTIME)?);
    let off = now_ns(nix::time::ClockId::CLOCK_REALTIME)? - truth;
    set_real_ns(truth)?;
    std::fs::remove_file(path)?;
    Ok(Some(off as f64 / 1e6))
}

#[cfg(test)]
mod system_clock_tests {
    use super::*;

    #[test]
    fn the_true_time_follows_the_boot_clock_from_the_anchor() {
        let a = Anchor { boot_ns: 1_000, real_ns: 1_700_000_000_000_000_000 };
        assert_eq!(a.real_at(1_000), a.real_ns);
        assert_eq!(a.real_at(2_500_000_000), a.real_ns + 2_499_999_000);
        assert_eq!(Anchor::parse("1000 1700000000000000000\n"), Some(a));
        assert_eq!(Anchor::parse("1000"), None);
    }
}

impl Drop for SystemClock {
    fn drop(&mut self) {
        if let Err(e) = self.restore() {
            eprintln!(
                "faultline: could not restore the system clock ({e}); it is off by {} ms (faultline clean restores it)",
                self.applied_ms
            );
        }
    }
}
