//! Compiles the report content under `data/report/` into the binary, for `content.rs`.

fn main() {
    nianbao_embed::embed_folder("../../data/report", "content_files.rs");
}
