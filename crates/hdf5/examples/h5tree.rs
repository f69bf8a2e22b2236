//! Print what arco-hdf5 sees in HDF5 files: groups, dimensions, variables,
//! attributes and each variable's chunk manifest summary.
//!
//! `cargo run -p arco-hdf5 --example h5tree -- FILE...`

use arco_core::Group;
use std::sync::Arc;

fn show(file: &arco_hdf5::H5File, g: &Group, indent: usize) {
    let pad = "  ".repeat(indent);
    println!(
        "{pad}group {} dims {:?}",
        g.path,
        g.dimensions
            .iter()
            .map(|d| (d.name.as_str(), d.size, d.unlimited))
            .collect::<Vec<_>>()
    );
    for a in &g.attributes {
        println!("{pad}  @{} = {}", a.name, serde_json_like(&a.value));
    }
    for v in &g.variables {
        println!(
            "{pad}  var {} {} {:?} {:?} {:?} chunks={:?} codecs={:?} fill={:?}",
            v.name,
            v.dtype,
            v.endian,
            v.dims,
            v.shape,
            v.chunk_shape,
            v.codecs.iter().map(|c| c.label()).collect::<Vec<_>>(),
            v.fill_value
        );
        println!(
            "{pad}    attrs {:?}",
            v.attributes
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
        );
        match file.manifest(&v.path) {
            Ok(m) => println!(
                "{pad}    manifest: {} chunks, first {:?}",
                m.chunks.len(),
                m.chunks
                    .iter()
                    .take(4)
                    .map(|c| (c.index.clone(), c.offset, c.length, c.filter_mask))
                    .collect::<Vec<_>>()
            ),
            Err(e) => println!("{pad}    manifest error: {e}"),
        }
    }
    for c in &g.groups {
        show(file, c, indent + 1);
    }
}

fn serde_json_like(v: &arco_core::AttrValue) -> String {
    let s = format!("{v:?}");
    s.chars().take(100).collect()
}

fn main() {
    for path in std::env::args().skip(1) {
        println!("===== {path}");
        let src = match arco_storage::LocalFile::open(&path, path.clone()) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                println!("{e}");
                continue;
            }
        };
        match arco_hdf5::H5File::open(src) {
            Ok(f) => {
                println!("format {}", f.dataset().format);
                show(&f, &f.dataset().root, 0);
            }
            Err(e) => println!("ERROR {e}"),
        }
    }
}
