//! For build scripts: compiles every file under a folder into the crate, as a list of
//! `(relative path, bytes)` pairs that the crate includes with
//! `include!(concat!(env!("OUT_DIR"), "/<name>"))`. Cargo is told to rebuild when any of
//! the files changes.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

/// Writes `$OUT_DIR/<file>` declaring `pub static FILES: &[(&str, &[u8])]` with every file
/// under `root` (relative to the crate's manifest), in path order.
pub fn embed_folder(root: &str, file: &str) {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let root = manifest.join(root);
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    let mut code = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let relative = path
            .strip_prefix(&root)
            .expect("inside root")
            .to_string_lossy()
            .replace('\\', "/");
        let absolute = path.canonicalize().expect("canonical path");
        code.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?})),\n",
            absolute.to_string_lossy()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join(file);
    std::fs::write(out, code).expect("write the embedded file list");
}
