//! Compiles the sample school (`examples/qianjiang/`: its dataset and its report content)
//! into the binary, so `nianbao demo` works from any folder.

fn main() {
    nianbao_embed::embed_folder("../../examples/qianjiang", "sample_files.rs");
}
