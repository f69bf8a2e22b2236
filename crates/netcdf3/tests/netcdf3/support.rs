//! Test support: the in-memory byte source of arco-testkit, and a tiny
//! NetCDF-3 writer that lays files out the way netcdf-c does.

use arco_netcdf3::Nc3File;
use arco_storage::DynSource;

pub use arco_testkit::RecordingSource as MemSource;

/// Open bytes as a NetCDF-3 file named `mem.nc`.
pub fn open(bytes: &[u8]) -> arco_netcdf3::Result<Nc3File> {
    let source: DynSource = MemSource::new("mem.nc", bytes.to_vec());
    Nc3File::open(source)
}

pub const NC_BYTE: u32 = 1;
pub const NC_CHAR: u32 = 2;
pub const NC_SHORT: u32 = 3;
pub const NC_INT: u32 = 4;
pub const NC_FLOAT: u32 = 5;
pub const NC_DOUBLE: u32 = 6;
pub const NC_UBYTE: u32 = 7;
pub const NC_USHORT: u32 = 8;
pub const NC_UINT: u32 = 9;
pub const NC_INT64: u32 = 10;
pub const NC_UINT64: u32 = 11;

/// Byte used for padding in the data section, so tests can tell it from data.
pub const PAD: u8 = 0xEE;

pub fn type_size(t: u32) -> u64 {
    match t {
        NC_BYTE | NC_CHAR | NC_UBYTE => 1,
        NC_SHORT | NC_USHORT => 2,
        NC_INT | NC_FLOAT | NC_UINT => 4,
        NC_DOUBLE | NC_INT64 | NC_UINT64 => 8,
        _ => 1,
    }
}

/// An attribute: type, element count and raw big-endian value bytes.
#[derive(Debug, Clone)]
pub struct TAttr {
    pub name: String,
    pub nc_type: u32,
    pub nelems: u64,
    pub data: Vec<u8>,
}

impl TAttr {
    pub fn text(name: &str, s: &[u8]) -> Self {
        TAttr {
            name: name.into(),
            nc_type: NC_CHAR,
            nelems: s.len() as u64,
            data: s.to_vec(),
        }
    }

    /// Values already in big-endian bytes.
    pub fn raw(name: &str, nc_type: u32, data: Vec<u8>) -> Self {
        TAttr {
            name: name.into(),
            nc_type,
            nelems: data.len() as u64 / type_size(nc_type),
            data,
        }
    }
}

/// A variable: dimension ids, attributes and type.
#[derive(Debug, Clone)]
pub struct TVar {
    pub name: String,
    pub dimids: Vec<u64>,
    pub attrs: Vec<TAttr>,
    pub nc_type: u32,
}

impl TVar {
    pub fn new(name: &str, nc_type: u32, dimids: &[u64]) -> Self {
        TVar {
            name: name.into(),
            dimids: dimids.to_vec(),
            attrs: Vec::new(),
            nc_type,
        }
    }

    pub fn attr(mut self, a: TAttr) -> Self {
        self.attrs.push(a);
        self
    }
}

/// A whole file. `numrecs: None` writes STREAMING.
#[derive(Debug, Clone)]
pub struct TFile {
    pub version: u8,
    pub numrecs: Option<u64>,
    pub dims: Vec<(String, u64)>,
    pub gatts: Vec<TAttr>,
    pub vars: Vec<TVar>,
}

/// Where the writer put everything.
#[derive(Debug, Clone)]
pub struct Layout {
    pub header_len: u64,
    pub begins: Vec<u64>,
    /// Unpadded data bytes: whole array (fixed) or one record (record vars).
    pub lens: Vec<u64>,
    pub is_record: Vec<bool>,
    pub recsize: u64,
    pub numrecs: u64,
    pub total_len: u64,
}

fn pad4(n: u64) -> u64 {
    n.div_ceil(4) * 4
}

impl TFile {
    pub fn new(version: u8) -> Self {
        TFile {
            version,
            numrecs: Some(0),
            dims: Vec::new(),
            gatts: Vec::new(),
            vars: Vec::new(),
        }
    }

    pub fn dim(mut self, name: &str, len: u64) -> Self {
        self.dims.push((name.into(), len));
        self
    }

    pub fn numrecs(mut self, n: u64) -> Self {
        self.numrecs = Some(n);
        self
    }

    pub fn gatt(mut self, a: TAttr) -> Self {
        self.gatts.push(a);
        self
    }

    pub fn var(mut self, v: TVar) -> Self {
        self.vars.push(v);
        self
    }

    fn wide(&self) -> bool {
        self.version == 5
    }

    fn count(&self, out: &mut Vec<u8>, n: u64) {
        if self.wide() {
            out.extend_from_slice(&n.to_be_bytes());
        } else {
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }

    fn name(&self, out: &mut Vec<u8>, s: &str) {
        self.count(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
        out.resize(pad4(out.len() as u64) as usize, 0);
    }

    fn attrs(&self, out: &mut Vec<u8>, attrs: &[TAttr]) {
        if attrs.is_empty() {
            out.extend_from_slice(&0u32.to_be_bytes());
            self.count(out, 0);
            return;
        }
        out.extend_from_slice(&0x0Cu32.to_be_bytes());
        self.count(out, attrs.len() as u64);
        for a in attrs {
            self.name(out, &a.name);
            out.extend_from_slice(&a.nc_type.to_be_bytes());
            self.count(out, a.nelems);
            out.extend_from_slice(&a.data);
            out.resize(pad4(out.len() as u64) as usize, 0);
        }
    }

    fn record_dim(&self) -> Option<u64> {
        self.dims.iter().position(|d| d.1 == 0).map(|i| i as u64)
    }

    /// Per-variable: (is_record, unpadded bytes of the array or of one record).
    fn sizes(&self) -> Vec<(bool, u64)> {
        let rec = self.record_dim();
        self.vars
            .iter()
            .map(|v| {
                let is_record = rec.is_some() && v.dimids.first().copied() == rec;
                let elems: u64 = v
                    .dimids
                    .iter()
                    .filter(|&&d| Some(d) != rec)
                    .map(|&d| self.dims.get(d as usize).map_or(1, |x| x.1))
                    .product();
                (is_record, elems * type_size(v.nc_type))
            })
            .collect()
    }

    /// The header with the given `begin` values.
    pub fn header(&self, begins: &[u64]) -> Vec<u8> {
        let mut out = vec![b'C', b'D', b'F', self.version];
        match self.numrecs {
            Some(n) => self.count(&mut out, n),
            None if self.wide() => out.extend_from_slice(&[0xFF; 8]),
            None => out.extend_from_slice(&[0xFF; 4]),
        }
        if self.dims.is_empty() {
            out.extend_from_slice(&0u32.to_be_bytes());
            self.count(&mut out, 0);
        } else {
            out.extend_from_slice(&0x0Au32.to_be_bytes());
            self.count(&mut out, self.dims.len() as u64);
            for (name, len) in &self.dims {
                self.name(&mut out, name);
                self.count(&mut out, *len);
            }
        }
        self.attrs(&mut out, &self.gatts);
        if self.vars.is_empty() {
            out.extend_from_slice(&0u32.to_be_bytes());
            self.count(&mut out, 0);
        } else {
            out.extend_from_slice(&0x0Bu32.to_be_bytes());
            self.count(&mut out, self.vars.len() as u64);
            for ((v, (_, len)), begin) in self.vars.iter().zip(self.sizes()).zip(begins) {
                self.name(&mut out, &v.name);
                self.count(&mut out, v.dimids.len() as u64);
                for &d in &v.dimids {
                    self.count(&mut out, d);
                }
                self.attrs(&mut out, &v.attrs);
                out.extend_from_slice(&v.nc_type.to_be_bytes());
                self.count(&mut out, pad4(len));
                if self.version == 1 {
                    out.extend_from_slice(&(*begin as u32).to_be_bytes());
                } else {
                    out.extend_from_slice(&begin.to_be_bytes());
                }
            }
        }
        out
    }

    /// Where netcdf-c would put each variable.
    pub fn layout(&self) -> Layout {
        let header_len = self.header(&vec![0; self.vars.len()]).len() as u64;
        let sizes = self.sizes();
        let mut begins = vec![0; self.vars.len()];
        let mut at = header_len;
        for (i, (rec, len)) in sizes.iter().enumerate() {
            if !rec {
                begins[i] = at;
                at += pad4(*len);
            }
        }
        let begin_rec = at;
        let nrec_vars = sizes.iter().filter(|s| s.0).count();
        let mut recsize = 0;
        for (i, (rec, len)) in sizes.iter().enumerate() {
            if *rec {
                begins[i] = begin_rec + recsize;
                recsize += if nrec_vars == 1 { *len } else { pad4(*len) };
            }
        }
        let numrecs = self.numrecs.unwrap_or(0);
        Layout {
            header_len,
            begins,
            lens: sizes.iter().map(|s| s.1).collect(),
            is_record: sizes.iter().map(|s| s.0).collect(),
            recsize,
            numrecs,
            total_len: begin_rec + numrecs * recsize,
        }
    }

    /// The whole file. Variable `i`'s data bytes are all `i + 1`; padding is [`PAD`].
    /// For STREAMING files, `streaming_records` records are written.
    pub fn bytes_with(&self, streaming_records: u64) -> (Vec<u8>, Layout) {
        let mut layout = self.layout();
        if self.numrecs.is_none() {
            layout.numrecs = streaming_records;
            layout.total_len += streaming_records * layout.recsize;
        }
        let mut out = self.header(&layout.begins);
        out.resize(layout.total_len as usize, PAD);
        for i in 0..self.vars.len() {
            let marker = i as u8 + 1;
            let n = if layout.is_record[i] {
                layout.numrecs
            } else {
                1
            };
            for r in 0..n {
                let start = (layout.begins[i] + r * layout.recsize) as usize;
                out[start..start + layout.lens[i] as usize].fill(marker);
            }
        }
        (out, layout)
    }

    pub fn bytes(&self) -> (Vec<u8>, Layout) {
        self.bytes_with(0)
    }
}
