//! Walking the HDF5 object tree into plain records: groups with their links,
//! datasets with their storage messages, and attributes as raw bytes.
//!
//! Object headers come from `hdf5-reader` (cached, with shared messages
//! resolved) and, when it refuses one, from our own walker in
//! [`crate::header`]. Group members are listed from the header's own link
//! messages or symbol table; only dense (fractal-heap) link and attribute
//! storage is delegated to `hdf5-reader`'s group and dataset API.

use crate::header;
use hdf5_reader::btree_v1;
use hdf5_reader::error::{Error as H5Error, Result as H5Result};
use hdf5_reader::global_heap::GlobalHeapCollection;
use hdf5_reader::io::Cursor;
use hdf5_reader::local_heap::LocalHeap;
use hdf5_reader::messages::dataspace::{DataspaceMessage, DataspaceType};
use hdf5_reader::messages::datatype::Datatype;
use hdf5_reader::messages::fill_value::FillValueMessage;
use hdf5_reader::messages::filter_pipeline::FilterDescription;
use hdf5_reader::messages::layout::DataLayout;
use hdf5_reader::messages::link::LinkTarget;
use hdf5_reader::messages::HdfMessage;
use hdf5_reader::object_header::ObjectHeader;
use hdf5_reader::symbol_table::SymbolTableNode;
use hdf5_reader::{Hdf5File, Storage};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Deepest group nesting followed.
const MAX_GROUP_DEPTH: usize = 64;

/// Shared state of one open file: the `hdf5-reader` handle, superblock sizes
/// and the caches of our own parsing.
pub(crate) struct Ctx {
    /// The `hdf5-reader` file.
    pub file: Hdf5File,
    /// Size of file offsets in bytes.
    pub os: u8,
    /// Size of file lengths in bytes.
    pub ls: u8,
    /// Absolute byte position every HDF5 address is relative to (the user block size).
    pub base: u64,
    own_headers: Mutex<HashMap<u64, Arc<ObjectHeader>>>,
    heaps: Mutex<HashMap<u64, Arc<GlobalHeapCollection>>>,
}

impl Ctx {
    /// Wrap an opened file.
    pub(crate) fn new(file: Hdf5File) -> Self {
        let sb = file.superblock();
        let (os, ls, base) = (sb.offset_size, sb.length_size, sb.base_address);
        Ctx {
            file,
            os,
            ls,
            base,
            own_headers: Mutex::new(HashMap::new()),
            heaps: Mutex::new(HashMap::new()),
        }
    }

    /// The file's storage, addressed relative to the HDF5 base address.
    pub(crate) fn storage(&self) -> &dyn Storage {
        self.file.storage()
    }

    /// True when `addr` is HDF5's undefined address.
    pub(crate) fn undefined(&self, addr: u64) -> bool {
        Cursor::is_undefined_offset(addr, self.os)
    }

    /// The object header at `addr`.
    pub(crate) fn header(&self, addr: u64) -> H5Result<Arc<ObjectHeader>> {
        self.header_at_depth(addr, 0)
    }

    /// The object header at `addr`, `depth` shared-message hops from the object asked for.
    pub(crate) fn header_at_depth(&self, addr: u64, depth: u32) -> H5Result<Arc<ObjectHeader>> {
        let first = match self.file.get_or_parse_header(addr) {
            Ok(h) => return Ok(h),
            Err(e) => e,
        };
        if let Some(h) = lock(&self.own_headers).get(&addr) {
            return Ok(h.clone());
        }
        match header::parse(self, addr, depth) {
            Ok(h) => {
                let h = Arc::new(h);
                lock(&self.own_headers).insert(addr, h.clone());
                Ok(h)
            }
            Err(_) => Err(first),
        }
    }

    /// The bytes a variable-length element (`u32` count, heap address, `u32`
    /// index) points to in the global heap; `unit` bytes per counted item.
    pub(crate) fn vlen_bytes(&self, element: &[u8], unit: usize) -> H5Result<Vec<u8>> {
        let mut c = Cursor::new(element);
        let count = c.read_u32_le()? as usize;
        let addr = c.read_offset(self.os)?;
        let index = c.read_u32_le()?;
        if self.undefined(addr) || index == 0 || count == 0 {
            return Ok(Vec::new());
        }
        let index = u16::try_from(index)
            .map_err(|_| H5Error::InvalidData(format!("global heap index {index} too large")))?;
        let heap = self.heap(addr)?;
        let object = heap.get_object(index).ok_or_else(|| {
            H5Error::InvalidData(format!("global heap at {addr} has no object {index}"))
        })?;
        let len = count.saturating_mul(unit);
        object.data.get(..len).map(<[u8]>::to_vec).ok_or_else(|| {
            H5Error::InvalidData(format!(
                "global heap object {index} at {addr} is shorter than its {len} bytes"
            ))
        })
    }

    fn heap(&self, addr: u64) -> H5Result<Arc<GlobalHeapCollection>> {
        if let Some(h) = lock(&self.heaps).get(&addr) {
            return Ok(h.clone());
        }
        let h = Arc::new(GlobalHeapCollection::parse_at_storage(
            self.storage(),
            addr,
            self.os,
            self.ls,
        )?);
        lock(&self.heaps).insert(addr, h.clone());
        Ok(h)
    }

    /// Size in bytes of one stored variable-length element.
    pub(crate) fn vlen_element_size(&self) -> usize {
        8 + usize::from(self.os)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An attribute as stored.
#[derive(Debug, Clone)]
pub(crate) struct RawAttr {
    /// Attribute name.
    pub name: String,
    /// Element type.
    pub datatype: Datatype,
    /// Shape; empty for a scalar.
    pub shape: Vec<u64>,
    /// True for a null dataspace (no value at all).
    pub null: bool,
    /// Stored element bytes (variable-length elements as heap references).
    pub raw: Vec<u8>,
    /// Strings already decoded by `hdf5-reader` (dense storage only).
    pub strings: Option<Vec<String>>,
}

impl RawAttr {
    /// Number of elements.
    pub(crate) fn count(&self) -> u64 {
        if self.null {
            0
        } else {
            self.shape.iter().product()
        }
    }
}

/// A dataset's storage description.
#[derive(Debug, Clone)]
pub(crate) struct RawDataset {
    /// Link name.
    pub name: String,
    /// Full path.
    pub path: String,
    /// Object header address.
    pub addr: u64,
    /// Current extent (empty for scalars).
    pub shape: Vec<u64>,
    /// Maximum extent, `u64::MAX` for unlimited.
    pub max_dims: Option<Vec<u64>>,
    /// True for a null dataspace.
    pub null: bool,
    /// Element type.
    pub datatype: Datatype,
    /// Size of one element in bytes, from the datatype message.
    pub elem_size: u32,
    /// Storage layout.
    pub layout: DataLayout,
    /// Filter pipeline in encode order.
    pub filters: Vec<FilterDescription>,
    /// Fill value message.
    pub fill: Option<FillValueMessage>,
    /// True when raw data lives in external files.
    pub external: bool,
    /// Attributes in storage order.
    pub attrs: Vec<RawAttr>,
}

/// A group with its members.
#[derive(Debug, Clone)]
pub(crate) struct RawGroup {
    /// Link name (empty for the root).
    pub name: String,
    /// Full path (`/` for the root).
    pub path: String,
    /// Attributes.
    pub attrs: Vec<RawAttr>,
    /// Datasets in listing order.
    pub datasets: Vec<RawDataset>,
    /// Child groups in listing order.
    pub groups: Vec<RawGroup>,
}

/// A failure while walking, with the object it concerns.
#[derive(Debug)]
pub(crate) struct WalkError {
    /// Object path.
    pub path: String,
    /// The underlying error.
    pub error: H5Error,
}

type WalkResult<T> = Result<T, WalkError>;

fn at(path: &str) -> impl Fn(H5Error) -> WalkError + '_ {
    move |error| WalkError {
        path: path.to_string(),
        error,
    }
}

enum Kind {
    Group,
    Dataset,
    Other,
}

fn classify(h: &ObjectHeader) -> Kind {
    let mut dataset = false;
    let mut attrs = false;
    for m in &h.messages {
        match m {
            HdfMessage::SymbolTable(_)
            | HdfMessage::Link(_)
            | HdfMessage::LinkInfo(_)
            | HdfMessage::GroupInfo(_) => return Kind::Group,
            HdfMessage::DataLayout(_) | HdfMessage::Dataspace(_) => dataset = true,
            HdfMessage::Attribute(_) | HdfMessage::AttributeInfo(_) => attrs = true,
            _ => {}
        }
    }
    if dataset {
        Kind::Dataset
    } else if attrs {
        Kind::Group
    } else {
        Kind::Other
    }
}

/// Walk the whole file from the root group.
pub(crate) fn walk(ctx: &Ctx) -> WalkResult<RawGroup> {
    let root = ctx
        .file
        .superblock()
        .root_object_header_address()
        .map_err(at("/"))?;
    let mut seen = HashSet::new();
    walk_group(ctx, root, String::new(), "/".to_string(), 0, &mut seen)
}

fn child_path(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn walk_group(
    ctx: &Ctx,
    addr: u64,
    name: String,
    path: String,
    depth: usize,
    seen: &mut HashSet<u64>,
) -> WalkResult<RawGroup> {
    seen.insert(addr);
    let header = ctx.header(addr).map_err(at(&path))?;
    let attrs = attributes(ctx, &header, addr, &path, true).map_err(at(&path))?;
    let links = members(ctx, &header, &path).map_err(at(&path))?;
    let mut group = RawGroup {
        name,
        path: path.clone(),
        attrs,
        datasets: Vec::new(),
        groups: Vec::new(),
    };
    for (child, child_addr) in links {
        let cpath = child_path(&path, &child);
        if ctx.undefined(child_addr) {
            continue;
        }
        let h = ctx.header(child_addr).map_err(at(&cpath))?;
        match classify(&h) {
            Kind::Group => {
                // A hard link back up the tree would recurse forever.
                if seen.contains(&child_addr) || depth >= MAX_GROUP_DEPTH {
                    continue;
                }
                let g = walk_group(ctx, child_addr, child, cpath, depth + 1, seen)?;
                group.groups.push(g);
            }
            Kind::Dataset => {
                let d = dataset(ctx, &h, child, cpath.clone(), child_addr).map_err(at(&cpath))?;
                group.datasets.push(d);
            }
            Kind::Other => {}
        }
    }
    Ok(group)
}

/// Hard links of a group as (name, address), in the order netCDF-C lists
/// them: creation order when the group tracks it, else by name.
fn members(ctx: &Ctx, header: &ObjectHeader, path: &str) -> H5Result<Vec<(String, u64)>> {
    let mut tracked = false;
    let mut dense = false;
    let mut compact: Vec<(String, u64, Option<u64>)> = Vec::new();
    for m in &header.messages {
        match m {
            HdfMessage::SymbolTable(st) => {
                let mut out = symbol_table(ctx, st.btree_address, st.heap_address)?;
                out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                return Ok(out);
            }
            HdfMessage::LinkInfo(li) => {
                tracked = li.creation_order_tracked;
                dense = !ctx.undefined(li.fractal_heap_address);
            }
            HdfMessage::Link(l) => {
                if let LinkTarget::Hard { address } = l.target {
                    compact.push((l.name.clone(), address, l.creation_order));
                }
            }
            _ => {}
        }
    }
    if dense {
        // Dense link storage (a fractal heap): let hdf5-reader list it.
        let g = ctx.file.group(path)?;
        let (groups, datasets) = g.members()?;
        let mut out: Vec<(String, u64)> = groups
            .iter()
            .map(|g| (g.name().to_string(), g.address()))
            .chain(datasets.iter().map(|d| (d.name().to_string(), d.address())))
            .collect();
        for (n, a, _) in compact {
            if !out.iter().any(|(m, _)| *m == n) {
                out.push((n, a));
            }
        }
        if !tracked {
            out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        }
        return Ok(out);
    }
    if tracked && compact.iter().all(|c| c.2.is_some()) {
        compact.sort_by_key(|c| c.2);
    } else {
        compact.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    Ok(compact.into_iter().map(|(n, a, _)| (n, a)).collect())
}

/// Entries of an old-style (symbol table) group.
fn symbol_table(ctx: &Ctx, btree: u64, heap_addr: u64) -> H5Result<Vec<(String, u64)>> {
    let storage = ctx.storage();
    let heap = LocalHeap::parse_at_storage(storage, heap_addr, ctx.os, ctx.ls)?;
    let leaves =
        btree_v1::collect_btree_v1_leaves_storage(storage, btree, ctx.os, ctx.ls, None, &[], None)?;
    let entry_len = 2 * usize::from(ctx.os) + 4 + 4 + 16;
    let mut out = Vec::new();
    for (_, snod) in leaves {
        let prefix = storage.read_range(snod, 8)?;
        let n = usize::from(u16::from_le_bytes([prefix[6], prefix[7]]));
        let bytes = storage.read_range(snod, 8 + n * entry_len)?;
        let node = SymbolTableNode::parse(&mut Cursor::new(bytes.as_ref()), ctx.os, ctx.ls)?;
        for e in node.entries {
            if e.cache_type == 2 {
                continue; // soft link
            }
            let name = heap.get_string_storage(e.link_name_offset, storage)?;
            out.push((name, e.object_header_address));
        }
    }
    Ok(out)
}

/// The attributes of an object: compact ones from its header, dense ones
/// through `hdf5-reader`.
fn attributes(
    ctx: &Ctx,
    header: &ObjectHeader,
    addr: u64,
    path: &str,
    is_group: bool,
) -> H5Result<Vec<RawAttr>> {
    let dense = header.messages.iter().any(|m| match m {
        HdfMessage::AttributeInfo(info) => !ctx.undefined(info.fractal_heap_address),
        _ => false,
    });
    if dense {
        let list = if is_group {
            ctx.file.group(path)?.attributes()?
        } else {
            ctx.file.dataset(path)?.attributes()
        };
        // hdf5-reader lists dense attributes by creation order when tracked,
        // else in name-index (hash) order, which is also netCDF-C's order.
        return Ok(list
            .into_iter()
            .map(|a| RawAttr {
                null: a.shape == [0] && a.raw_data.is_empty(),
                name: a.name,
                datatype: a.datatype,
                shape: a.shape,
                raw: a.raw_data,
                strings: a.decoded_strings,
            })
            .collect());
    }
    let mut list: Vec<RawAttr> = header
        .messages
        .iter()
        .filter_map(|m| match m {
            HdfMessage::Attribute(a) => Some(RawAttr {
                name: a.name.clone(),
                datatype: a.datatype.clone(),
                shape: space_shape(&a.dataspace),
                null: a.dataspace.dataspace_type == DataspaceType::Null,
                raw: a.raw_data.clone(),
                strings: None,
            }),
            _ => None,
        })
        .collect();
    // netCDF-C lists attributes in creation order when the object tracks it,
    // else in libhdf5's message order.
    if list.len() > 1 {
        if let Ok(order) = header::attribute_order(ctx, addr) {
            list.sort_by_key(|a| order.get(&a.name).copied().unwrap_or(u64::MAX));
        }
    }
    Ok(list)
}

fn space_shape(ds: &DataspaceMessage) -> Vec<u64> {
    match ds.dataspace_type {
        DataspaceType::Scalar => Vec::new(),
        DataspaceType::Null => vec![0],
        DataspaceType::Simple => ds.dims.clone(),
    }
}

fn dataset(
    ctx: &Ctx,
    header: &ObjectHeader,
    name: String,
    path: String,
    addr: u64,
) -> H5Result<RawDataset> {
    let mut space = None;
    let mut dtype = None;
    let mut layout = None;
    let mut filters = Vec::new();
    let mut fill = None;
    let mut external = false;
    for m in &header.messages {
        match m {
            HdfMessage::Dataspace(ds) => space = Some(ds.clone()),
            HdfMessage::Datatype(dt) => dtype = Some(dt.clone()),
            HdfMessage::DataLayout(l) => layout = Some(l.layout.clone()),
            HdfMessage::FilterPipeline(fp) => filters = fp.filters.clone(),
            // The newer fill value message (type 5) wins over the old one (type 4).
            HdfMessage::FillValue(fv) if fill.is_none() || fv.value.is_some() => {
                fill = Some(fv.clone());
            }
            HdfMessage::ExternalFiles(_) => external = true,
            HdfMessage::Shared(_) => {
                return Err(H5Error::UnsupportedEncoding(
                    "a shared message could not be resolved".into(),
                ))
            }
            _ => {}
        }
    }
    let space = space.ok_or_else(|| H5Error::InvalidData("dataset has no dataspace".into()))?;
    let dtype = dtype.ok_or_else(|| H5Error::InvalidData("dataset has no datatype".into()))?;
    let layout = layout.ok_or_else(|| H5Error::InvalidData("dataset has no layout".into()))?;
    let shape = match space.dataspace_type {
        DataspaceType::Simple => space.dims.clone(),
        DataspaceType::Scalar => Vec::new(),
        DataspaceType::Null => vec![0],
    };
    let layout = match layout {
        // Layout messages before version 4 list the element size as a last chunk dimension.
        DataLayout::Chunked {
            address,
            mut dims,
            element_size,
            chunk_indexing,
        } if dims.len() == shape.len() + 1 => {
            dims.pop();
            DataLayout::Chunked {
                address,
                dims,
                element_size,
                chunk_indexing,
            }
        }
        other => other,
    };
    let attrs = attributes(ctx, header, addr, &path, false)?;
    Ok(RawDataset {
        name,
        path,
        addr,
        shape,
        max_dims: space.max_dims.clone(),
        null: space.dataspace_type == DataspaceType::Null,
        datatype: dtype.datatype,
        elem_size: dtype.size,
        layout,
        filters,
        fill,
        external,
        attrs,
    })
}
