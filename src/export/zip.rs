//! A streaming ZIP writer: stored entries (no compression: NDJSON is for machines, and the
//! archive stays trivially verifiable), written as they are produced, so an archive of any
//! size passes through a bounded buffer (the caller drains [`ZipWriter::out`] into multipart
//! uploads).
//!
//! Each entry's CRC-32 and size are known only at its end, so local headers set bit 3 and a
//! data descriptor follows the data (as Go's `archive/zip` does); readers take the sizes from
//! the central directory. ZIP64 is used where it is needed and only there: an entry's size or
//! offset past 4 GiB gets a ZIP64 extra field in the central directory (and 8-byte sizes in
//! its descriptor), and more than 65,535 entries or a directory past 4 GiB add the ZIP64 end
//! records (APPNOTE 4.3.14–4.3.15). The writer's state between entries is plain data
//! ([`ZipState`]), so a job can stop after any entry and resume later.

use serde::{Deserialize, Serialize};

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// Incremental CRC-32 (IEEE), as ZIP uses.
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Default for Crc32 {
    fn default() -> Self {
        Crc32(0xFFFF_FFFF)
    }
}

impl Crc32 {
    pub fn update(&mut self, bytes: &[u8]) {
        let mut c = self.0;
        for &b in bytes {
            c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
        }
        self.0 = c;
    }

    pub fn value(&self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::default();
    c.update(bytes);
    c.value()
}

/// A finished entry, as the central directory records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub crc: u32,
    pub size: u64,
    pub offset: u64,
}

/// Everything the writer needs to carry on between entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZipState {
    /// Bytes written so far (drained or not).
    pub offset: u64,
    pub entries: Vec<Entry>,
}

struct Open {
    name: String,
    offset: u64,
    crc: Crc32,
    size: u64,
}

/// 2026-01-01 00:00 in DOS format; the manifest carries the real export time.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = ((2026 - 1980) << 9) | (1 << 5) | 1;
/// Bit 3 (sizes in a data descriptor) and bit 11 (UTF-8 names).
const FLAGS: u16 = 0x0808;

pub struct ZipWriter {
    state: ZipState,
    open: Option<Open>,
    out: Vec<u8>,
    /// Sizes and offsets above this need ZIP64 (u32::MAX; lowered only by tests).
    limit: u64,
}

impl Default for ZipWriter {
    fn default() -> Self {
        Self::resume(ZipState::default())
    }
}

impl ZipWriter {
    /// Carry on after the entries of `state` (a new archive: `ZipState::default()`).
    pub fn resume(state: ZipState) -> Self {
        Self {
            state,
            open: None,
            out: Vec::new(),
            limit: u32::MAX as u64,
        }
    }

    /// A writer that switches to ZIP64 above `limit` bytes (tests prove the ZIP64 paths
    /// with small archives).
    #[cfg(test)]
    pub fn with_zip64_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// Bytes produced and not yet drained.
    pub fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// The state between entries (call with no entry open).
    pub fn state(&self) -> &ZipState {
        &self.state
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        self.state.offset += bytes.len() as u64;
    }

    /// Start an entry (closing any open one).
    pub fn start(&mut self, name: &str) {
        self.end();
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes()); // version needed
        h.extend_from_slice(&FLAGS.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes()); // stored
        h.extend_from_slice(&DOS_TIME.to_le_bytes());
        h.extend_from_slice(&DOS_DATE.to_le_bytes());
        h.extend_from_slice(&[0; 12]); // crc, sizes: in the data descriptor
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        self.open = Some(Open {
            name: name.to_string(),
            offset: self.state.offset,
            crc: Crc32::default(),
            size: 0,
        });
        self.emit(&h);
    }

    /// Append to the open entry.
    pub fn write(&mut self, data: &[u8]) {
        if let Some(o) = &mut self.open {
            o.crc.update(data);
            o.size += data.len() as u64;
            self.out.extend_from_slice(data);
            self.state.offset += data.len() as u64;
        }
    }

    /// Close the open entry (if any) with its data descriptor.
    pub fn end(&mut self) {
        let Some(o) = self.open.take() else { return };
        let crc = o.crc.value();
        let mut d = Vec::with_capacity(24);
        d.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
        d.extend_from_slice(&crc.to_le_bytes());
        if o.size > self.limit {
            d.extend_from_slice(&o.size.to_le_bytes());
            d.extend_from_slice(&o.size.to_le_bytes());
        } else {
            d.extend_from_slice(&(o.size as u32).to_le_bytes());
            d.extend_from_slice(&(o.size as u32).to_le_bytes());
        }
        self.emit(&d);
        self.state.entries.push(Entry {
            name: o.name,
            crc,
            size: o.size,
            offset: o.offset,
        });
    }

    /// Close the archive: the central directory and the end records.
    pub fn finish(&mut self) {
        self.end();
        let cd_offset = self.state.offset;
        let mut cd = Vec::new();
        for e in &self.state.entries {
            let big_size = e.size > self.limit;
            let big_offset = e.offset > self.limit;
            let mut extra = Vec::new();
            if big_size || big_offset {
                let mut fields = Vec::new();
                if big_size {
                    fields.extend_from_slice(&e.size.to_le_bytes());
                    fields.extend_from_slice(&e.size.to_le_bytes());
                }
                if big_offset {
                    fields.extend_from_slice(&e.offset.to_le_bytes());
                }
                extra.extend_from_slice(&1u16.to_le_bytes());
                extra.extend_from_slice(&(fields.len() as u16).to_le_bytes());
                extra.extend_from_slice(&fields);
            }
            let version: u16 = if extra.is_empty() { 20 } else { 45 };
            let size32 = if big_size { u32::MAX } else { e.size as u32 };
            let offset32 = if big_offset {
                u32::MAX
            } else {
                e.offset as u32
            };
            cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            cd.extend_from_slice(&version.to_le_bytes()); // made by
            cd.extend_from_slice(&version.to_le_bytes()); // needed
            cd.extend_from_slice(&FLAGS.to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes()); // stored
            cd.extend_from_slice(&DOS_TIME.to_le_bytes());
            cd.extend_from_slice(&DOS_DATE.to_le_bytes());
            cd.extend_from_slice(&e.crc.to_le_bytes());
            cd.extend_from_slice(&size32.to_le_bytes());
            cd.extend_from_slice(&size32.to_le_bytes());
            cd.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 4]); // comment length, disk number
            cd.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
            cd.extend_from_slice(&0u32.to_le_bytes()); // external attrs
            cd.extend_from_slice(&offset32.to_le_bytes());
            cd.extend_from_slice(e.name.as_bytes());
            cd.extend_from_slice(&extra);
        }
        self.emit(&cd);
        let count = self.state.entries.len() as u64;
        let cd_size = cd.len() as u64;
        let zip64 = count >= 0xFFFF || cd_offset > self.limit || cd_size > self.limit;
        if zip64 {
            let eocd64_offset = self.state.offset;
            let mut r = Vec::with_capacity(76);
            r.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
            r.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of this record
            r.extend_from_slice(&45u16.to_le_bytes());
            r.extend_from_slice(&45u16.to_le_bytes());
            r.extend_from_slice(&[0; 8]); // disk numbers
            r.extend_from_slice(&count.to_le_bytes());
            r.extend_from_slice(&count.to_le_bytes());
            r.extend_from_slice(&cd_size.to_le_bytes());
            r.extend_from_slice(&cd_offset.to_le_bytes());
            // Locator.
            r.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
            r.extend_from_slice(&0u32.to_le_bytes());
            r.extend_from_slice(&eocd64_offset.to_le_bytes());
            r.extend_from_slice(&1u32.to_le_bytes());
            self.emit(&r);
        }
        let count16 = if zip64 { 0xFFFF } else { count as u16 };
        let sat32 = |v: u64| {
            if zip64 && v > self.limit {
                u32::MAX
            } else {
                v as u32
            }
        };
        let mut e = Vec::with_capacity(22);
        e.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        e.extend_from_slice(&[0; 4]); // disk numbers
        e.extend_from_slice(&count16.to_le_bytes());
        e.extend_from_slice(&count16.to_le_bytes());
        e.extend_from_slice(&sat32(cd_size).to_le_bytes());
        e.extend_from_slice(&sat32(cd_offset).to_le_bytes());
        e.extend_from_slice(&0u16.to_le_bytes());
        self.emit(&e);
    }
}

/// A whole archive of `files` (name, content) in memory: for small archives and tests.
pub fn store(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut z = ZipWriter::default();
    for (name, data) in files {
        z.start(name);
        z.write(data);
    }
    z.finish();
    std::mem::take(z.out())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        let mut c = Crc32::default();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.value(), 0xCBF4_3926, "incremental = whole");
    }

    /// Check an archive with Python's zipfile (and `unzip -t` where installed); returns
    /// Python's printout.
    pub(crate) fn check_with_tools(zip: &[u8], script: &str) -> String {
        let path = std::env::temp_dir().join(format!(
            "ct-zip-test-{}-{}.zip",
            std::process::id(),
            crc32(zip)
        ));
        std::fs::write(&path, zip).unwrap();
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if let Ok(u) = std::process::Command::new("unzip")
            .args(["-tqq"])
            .arg(&path)
            .output()
        {
            assert!(
                u.status.success(),
                "unzip -t: {}{}",
                String::from_utf8_lossy(&u.stdout),
                String::from_utf8_lossy(&u.stderr)
            );
        }
        let _ = std::fs::remove_file(&path);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn python_reads_the_archive() {
        let files = vec![
            ("a.ndjson".to_string(), b"{\"x\":1}\n".to_vec()),
            ("manifest.json".to_string(), b"{}".to_vec()),
        ];
        let out = check_with_tools(&store(&files), "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(z.read('a.ndjson').decode(), end='')");
        assert_eq!(out, "{\"x\":1}\n");
    }

    #[test]
    fn more_than_65535_entries_use_zip64_end_records() {
        let mut z = ZipWriter::default();
        for i in 0..70_000u32 {
            z.start(&format!("f{i}"));
            z.write(&i.to_le_bytes());
        }
        z.finish();
        let zip = std::mem::take(z.out());
        let out = check_with_tools(&zip, "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; n=z.namelist(); print(len(n), int.from_bytes(z.read('f69999'), 'little'))");
        assert_eq!(out.trim(), "70000 69999");
    }

    #[test]
    fn sizes_and_offsets_past_the_limit_use_zip64_fields() {
        // A limit of 100 bytes stands in for 4 GiB: every path of the ZIP64 code runs.
        let mut z = ZipWriter::default().with_zip64_limit(100);
        let big = vec![b'x'; 300];
        for name in ["a", "b", "c"] {
            z.start(name);
            z.write(&big);
        }
        z.finish();
        let zip = std::mem::take(z.out());
        let out = check_with_tools(&zip, "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print([(i.filename, i.file_size, i.header_offset) for i in z.infolist()])");
        assert!(out.contains("('c', 300, "), "{out}");
    }

    #[test]
    fn an_archive_resumed_between_entries_is_byte_for_byte_the_same() {
        let mut whole = ZipWriter::default();
        let mut first = ZipWriter::default();
        for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
            whole.start(name);
            whole.write(name.repeat(i + 1).as_bytes());
            if i < 2 {
                first.start(name);
                first.write(name.repeat(i + 1).as_bytes());
            }
        }
        whole.finish();
        first.end();
        let state: ZipState =
            serde_json::from_str(&serde_json::to_string(first.state()).unwrap()).unwrap();
        let mut bytes = std::mem::take(first.out());
        let mut second = ZipWriter::resume(state);
        for (i, name) in ["c", "d"].iter().enumerate() {
            second.start(name);
            second.write(name.repeat(i + 3).as_bytes());
        }
        second.finish();
        bytes.extend_from_slice(second.out());
        assert_eq!(&bytes, whole.out());
    }
}
