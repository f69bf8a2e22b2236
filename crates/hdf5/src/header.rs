//! Our own object-header walker, used when `hdf5-reader` refuses a header.
//!
//! `hdf5-reader` parses a whole object header or nothing: one attribute whose
//! datatype is a committed (shared) datatype makes it reject the header, and
//! with it the group and everything below (HDF5's `tvlstr.h5` is such a file).
//! This module walks the header itself (version 1 and 2 prefixes,
//! continuation blocks) and hands each message to `hdf5-reader`'s message
//! parsers, parsing only what they refuse: attribute messages with a shared
//! datatype or dataspace, and shared messages stored in other object headers.

use crate::tree::Ctx;
use hdf5_reader::error::{Error as H5Error, Result as H5Result};
use hdf5_reader::io::Cursor;
use hdf5_reader::messages::attribute::AttributeMessage;
use hdf5_reader::messages::datatype::DatatypeMessage;
use hdf5_reader::messages::shared::SharedMessage;
use hdf5_reader::messages::{self, HdfMessage};
use hdf5_reader::object_header::ObjectHeader;

/// Largest total of header bytes one object may have (as `hdf5-reader`'s default).
const MAX_HEADER_BYTES: u64 = 64 * 1024 * 1024;
/// Most header blocks (first + continuations) one object may have.
const MAX_BLOCKS: usize = 4096;
/// Deepest chain of shared messages followed.
pub(crate) const MAX_SHARED_DEPTH: u32 = 8;

const MSG_DATASPACE: u16 = 0x0001;
const MSG_DATATYPE: u16 = 0x0003;
const MSG_ATTRIBUTE: u16 = 0x000C;
const MSG_CONTINUATION: u16 = 0x0010;

/// Message types whose failure to parse must fail the object.
fn essential(type_id: u16) -> bool {
    matches!(
        type_id,
        0x0001 | 0x0002 | 0x0003 | 0x0006 | 0x0008 | 0x000B | 0x0010 | 0x0011 | 0x0015
    )
}

/// Parse the object header at `address` (relative to the HDF5 base address).
pub(crate) fn parse(ctx: &Ctx, address: u64, depth: u32) -> H5Result<ObjectHeader> {
    if depth > MAX_SHARED_DEPTH {
        return Err(H5Error::InvalidData(format!(
            "shared messages nest deeper than {MAX_SHARED_DEPTH} levels at {address}"
        )));
    }
    let storage = ctx.storage();
    let available = storage.len().saturating_sub(address);
    let prefix_len = available.min(16) as usize;
    let prefix = storage.read_range(address, prefix_len)?;
    let prefix = prefix.as_ref();
    if prefix.len() >= 4 && &prefix[..4] == b"OHDR" {
        parse_v2(ctx, address, depth)
    } else if prefix.first() == Some(&1) && prefix.len() == 16 {
        parse_v1(ctx, address, prefix, depth)
    } else {
        Err(H5Error::InvalidObjectHeaderSignature)
    }
}

struct Walk {
    messages: Vec<HdfMessage>,
    pending: std::collections::VecDeque<(u64, u64)>,
    blocks: usize,
    bytes: u64,
}

impl Walk {
    fn budget(&mut self, len: u64) -> H5Result<()> {
        self.blocks += 1;
        self.bytes = self.bytes.saturating_add(len);
        if self.blocks > MAX_BLOCKS || self.bytes > MAX_HEADER_BYTES {
            return Err(H5Error::ResourceLimit(
                "object header has too many or too large continuation blocks".into(),
            ));
        }
        Ok(())
    }
}

fn parse_v1(ctx: &Ctx, address: u64, prefix: &[u8], depth: u32) -> H5Result<ObjectHeader> {
    let refcount = u32::from_le_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
    let size = u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]);
    let mut walk = Walk {
        messages: Vec::new(),
        pending: std::collections::VecDeque::from([(address + 16, u64::from(size))]),
        blocks: 0,
        bytes: 0,
    };
    while let Some((start, len)) = walk.pending.pop_front() {
        walk.budget(len)?;
        let block = ctx.storage().read_range(start, usize_of(len)?)?;
        let data = block.as_ref();
        let mut pos = 0usize;
        while pos + 8 <= data.len() {
            let type_id = u16::from_le_bytes([data[pos], data[pos + 1]]);
            let size = usize::from(u16::from_le_bytes([data[pos + 2], data[pos + 3]]));
            let flags = data[pos + 4];
            pos += 8;
            let body = data.get(pos..pos + size).ok_or_else(|| {
                H5Error::InvalidData(format!(
                    "object header message at {} runs past its block",
                    start + pos as u64
                ))
            })?;
            pos += size;
            pos = pos.div_ceil(8) * 8;
            handle(ctx, type_id, flags, body, depth, &mut walk)?;
        }
    }
    Ok(ObjectHeader {
        version: 1,
        messages: walk.messages,
        reference_count: refcount,
        modification_time: None,
    })
}

fn parse_v2(ctx: &Ctx, address: u64, depth: u32) -> H5Result<ObjectHeader> {
    let storage = ctx.storage();
    let head_len = storage.len().saturating_sub(address).min(40) as usize;
    let head = storage.read_range(address, head_len)?;
    let mut c = Cursor::new(head.as_ref());
    c.skip(4)?;
    let version = c.read_u8()?;
    if version != 2 {
        return Err(H5Error::UnsupportedObjectHeaderVersion(version));
    }
    let flags = c.read_u8()?;
    let mut modification_time = None;
    if flags & 0x20 != 0 {
        c.skip(4)?;
        modification_time = Some(c.read_u32_le()?);
        c.skip(8)?;
    }
    if flags & 0x10 != 0 {
        c.skip(4)?;
    }
    let size_len = 1usize << (flags & 0x03);
    let chunk0 = c.read_uvar(size_len)?;
    let start = address + c.position();
    let track_order = flags & 0x04 != 0;
    let mut walk = Walk {
        messages: Vec::new(),
        pending: std::collections::VecDeque::new(),
        blocks: 0,
        bytes: 0,
    };
    walk.budget(chunk0)?;
    let block = storage.read_range(start, usize_of(chunk0)?)?;
    v2_messages(ctx, block.as_ref(), start, track_order, depth, &mut walk)?;
    while let Some((cont, len)) = walk.pending.pop_front() {
        walk.budget(len)?;
        let block = storage.read_range(cont, usize_of(len)?)?;
        let data = block.as_ref();
        if data.len() < 8 || &data[..4] != b"OCHK" {
            return Err(H5Error::InvalidData(format!(
                "continuation block at {cont} lacks its OCHK signature"
            )));
        }
        let body = &data[4..data.len() - 4];
        v2_messages(ctx, body, cont + 4, track_order, depth, &mut walk)?;
    }
    Ok(ObjectHeader {
        version: 2,
        messages: walk.messages,
        reference_count: 1,
        modification_time,
    })
}

fn v2_messages(
    ctx: &Ctx,
    data: &[u8],
    start: u64,
    track_order: bool,
    depth: u32,
    walk: &mut Walk,
) -> H5Result<()> {
    let head = if track_order { 6 } else { 4 };
    let mut pos = 0usize;
    while pos + head <= data.len() {
        let type_id = u16::from(data[pos]);
        let size = usize::from(u16::from_le_bytes([data[pos + 1], data[pos + 2]]));
        let flags = data[pos + 3];
        pos += head;
        let body = data.get(pos..pos + size).ok_or_else(|| {
            H5Error::InvalidData(format!(
                "object header message at {} runs past its block",
                start + pos as u64
            ))
        })?;
        pos += size;
        handle(ctx, type_id, flags, body, depth, walk)?;
    }
    Ok(())
}

fn handle(
    ctx: &Ctx,
    type_id: u16,
    flags: u8,
    body: &[u8],
    depth: u32,
    walk: &mut Walk,
) -> H5Result<()> {
    if type_id == 0 {
        return Ok(());
    }
    if flags & 0x02 != 0 {
        // The message is stored elsewhere; follow it.
        let shared =
            messages::shared::parse(&mut Cursor::new(body), type_id, ctx.os, ctx.ls, body.len())?;
        match resolve_shared(ctx, &shared, type_id, depth) {
            Ok(Some(msg)) => walk.messages.push(msg),
            Ok(None) if !essential(type_id) => {}
            Ok(None) => {
                return Err(H5Error::InvalidData(format!(
                    "shared message of type {type_id:#x} not found where it points"
                )))
            }
            Err(e) if essential(type_id) => return Err(e),
            Err(_) => {}
        }
        return Ok(());
    }
    let parsed =
        messages::parse_message(type_id, body.len(), &mut Cursor::new(body), ctx.os, ctx.ls);
    let msg = match parsed {
        Ok(m) => m,
        Err(_) if type_id == MSG_ATTRIBUTE => match attribute(ctx, body, depth) {
            Ok(a) => HdfMessage::Attribute(a),
            // An attribute we cannot read is left out rather than failing the
            // object; `hdf5-reader` cannot read it either.
            Err(_) => return Ok(()),
        },
        Err(e) if essential(type_id) => return Err(e),
        Err(_) => return Ok(()),
    };
    if type_id == MSG_CONTINUATION {
        if let HdfMessage::Continuation(c) = &msg {
            walk.pending.push_back((c.offset, c.length));
        }
    }
    walk.messages.push(msg);
    Ok(())
}

/// The message a shared-message envelope points to, from the object header
/// it lives in (committed datatypes, mostly).
fn resolve_shared(
    ctx: &Ctx,
    shared: &SharedMessage,
    type_id: u16,
    depth: u32,
) -> H5Result<Option<HdfMessage>> {
    let SharedMessage::SharedInOhdr { address, .. } = shared else {
        return Err(H5Error::UnsupportedEncoding(
            "shared message in the file's shared-message heap".into(),
        ));
    };
    let target = ctx.header_at_depth(*address, depth + 1)?;
    Ok(target.messages.iter().find_map(|m| match (type_id, m) {
        (MSG_DATATYPE, HdfMessage::Datatype(_)) | (MSG_DATASPACE, HdfMessage::Dataspace(_)) => {
            Some(m.clone())
        }
        (0x0005 | 0x0004, HdfMessage::FillValue(_)) => Some(m.clone()),
        (0x000B, HdfMessage::FilterPipeline(_)) => Some(m.clone()),
        _ => None,
    }))
}

/// An attribute message whose datatype or dataspace is shared.
fn attribute(ctx: &Ctx, body: &[u8], depth: u32) -> H5Result<AttributeMessage> {
    let mut c = Cursor::new(body);
    let version = c.read_u8()?;
    let flags = c.read_u8()?;
    let name_size = usize::from(c.read_u16_le()?);
    let dt_size = usize::from(c.read_u16_le()?);
    let ds_size = usize::from(c.read_u16_le()?);
    let pad = |n: usize| if version == 1 { n.div_ceil(8) * 8 } else { n };
    match version {
        1 | 2 => {}
        3 => {
            c.read_u8()?;
        }
        v => return Err(H5Error::UnsupportedAttributeVersion(v)),
    }
    let shared_type = version > 1 && flags & 0x01 != 0;
    let shared_space = version > 1 && flags & 0x02 != 0;
    let name_bytes = c.read_bytes(pad(name_size))?;
    let name_bytes = &name_bytes[..name_size.min(name_bytes.len())];
    let name_end = name_bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name_bytes.len());
    let name = String::from_utf8_lossy(&name_bytes[..name_end]).into_owned();

    let dt_bytes = c.read_bytes(pad(dt_size))?;
    let dt_bytes = &dt_bytes[..dt_size.min(dt_bytes.len())];
    let datatype: DatatypeMessage = if shared_type {
        let shared = messages::shared::parse(
            &mut Cursor::new(dt_bytes),
            MSG_DATATYPE,
            ctx.os,
            ctx.ls,
            dt_size,
        )?;
        match resolve_shared(ctx, &shared, MSG_DATATYPE, depth)? {
            Some(HdfMessage::Datatype(dt)) => dt,
            _ => {
                return Err(H5Error::InvalidData(format!(
                    "attribute '{name}': committed datatype not found"
                )))
            }
        }
    } else {
        messages::datatype::parse(&mut Cursor::new(dt_bytes), dt_size)?
    };

    let ds_bytes = c.read_bytes(pad(ds_size))?;
    let ds_bytes = &ds_bytes[..ds_size.min(ds_bytes.len())];
    let dataspace = if shared_space {
        let shared = messages::shared::parse(
            &mut Cursor::new(ds_bytes),
            MSG_DATASPACE,
            ctx.os,
            ctx.ls,
            ds_size,
        )?;
        match resolve_shared(ctx, &shared, MSG_DATASPACE, depth)? {
            Some(HdfMessage::Dataspace(ds)) => ds,
            _ => {
                return Err(H5Error::InvalidData(format!(
                    "attribute '{name}': shared dataspace not found"
                )))
            }
        }
    } else {
        messages::dataspace::parse(&mut Cursor::new(ds_bytes), ctx.os, ctx.ls, ds_size)?
    };

    let count = dataspace.num_elements()?;
    let data_len = count
        .checked_mul(u64::from(datatype.size))
        .ok_or_else(|| H5Error::InvalidData(format!("attribute '{name}' is too large")))?;
    let raw_data = c.read_bytes(usize_of(data_len)?)?.to_vec();
    Ok(AttributeMessage {
        name,
        datatype: datatype.datatype,
        dataspace,
        raw_data,
    })
}

fn usize_of(n: u64) -> H5Result<usize> {
    usize::try_from(n).map_err(|_| H5Error::InvalidData(format!("length {n} exceeds memory")))
}

/// The order netCDF-C lists the compact attributes of the object at
/// `address` in, as a sort key by name: their creation order when the
/// (version 2) header tracks it, else their position in libhdf5's message
/// table, which takes header chunks in the order their continuation
/// messages appear.
///
/// libhdf5 stores attribute messages wherever a header chunk has room, and
/// `hdf5-reader` neither keeps the per-message creation index nor visits
/// continuation chunks in libhdf5's order, so the order is recovered here.
pub(crate) fn attribute_order(
    ctx: &Ctx,
    address: u64,
) -> H5Result<std::collections::HashMap<String, u64>> {
    let storage = ctx.storage();
    let head_len = storage.len().saturating_sub(address).min(40) as usize;
    let head = storage.read_range(address, head_len)?;
    let h = head.as_ref();
    let mut c = Cursor::new(h);
    let v2 = h.len() >= 6 && &h[..4] == b"OHDR";
    let mut track = false;
    let first = if v2 {
        c.skip(5)?;
        let flags = c.read_u8()?;
        track = flags & 0x04 != 0;
        if flags & 0x20 != 0 {
            c.skip(16)?;
        }
        if flags & 0x10 != 0 {
            c.skip(4)?;
        }
        let chunk0 = c.read_uvar(1usize << (flags & 0x03))?;
        (address + c.position(), chunk0, false)
    } else {
        c.skip(8)?;
        (address + 16, u64::from(c.read_u32_le()?), false)
    };
    let mut blocks = std::collections::VecDeque::from([first]);
    let mut out = std::collections::HashMap::new();
    let mut seen = 0usize;
    let mut position = 0u64;
    while let Some((start, len, continuation)) = blocks.pop_front() {
        seen += 1;
        if seen > MAX_BLOCKS {
            return Err(H5Error::ResourceLimit("too many header blocks".into()));
        }
        let block = storage.read_range(start, usize_of(len)?)?;
        let mut data = block.as_ref();
        if v2 && continuation {
            if data.len() < 8 {
                break;
            }
            data = &data[4..data.len() - 4];
        }
        let head = match (v2, track) {
            (true, true) => 6,
            (true, false) => 4,
            (false, _) => 8,
        };
        let mut pos = 0usize;
        while pos + head <= data.len() {
            let (type_id, size) = if v2 {
                (
                    u16::from(data[pos]),
                    usize::from(u16::from_le_bytes([data[pos + 1], data[pos + 2]])),
                )
            } else {
                (
                    u16::from_le_bytes([data[pos], data[pos + 1]]),
                    usize::from(u16::from_le_bytes([data[pos + 2], data[pos + 3]])),
                )
            };
            let order = if track {
                u64::from(u16::from_le_bytes([data[pos + 4], data[pos + 5]]))
            } else {
                position
            };
            pos += head;
            let Some(body) = data.get(pos..pos + size) else {
                break;
            };
            pos += size;
            if !v2 {
                pos = pos.div_ceil(8) * 8;
            }
            position += 1;
            match type_id {
                MSG_CONTINUATION => {
                    let mut b = Cursor::new(body);
                    let off = b.read_offset(ctx.os)?;
                    let l = b.read_length(ctx.ls)?;
                    blocks.push_back((off, l, true));
                }
                MSG_ATTRIBUTE => {
                    if let Some(name) = attribute_name(body) {
                        out.insert(name, order);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// The name of an attribute message, without parsing the rest.
fn attribute_name(body: &[u8]) -> Option<String> {
    let version = *body.first()?;
    let name_size = usize::from(u16::from_le_bytes([*body.get(2)?, *body.get(3)?]));
    let start = if version >= 3 { 9 } else { 8 };
    let raw = body.get(start..start + name_size)?;
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    Some(String::from_utf8_lossy(&raw[..end]).into_owned())
}
