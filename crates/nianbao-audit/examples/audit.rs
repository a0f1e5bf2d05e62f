//! Audits a report given on the command line and prints the findings for people.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("用法：audit 报告文件（.txt、.md、.docx、.html、.pdf）");
        std::process::exit(2);
    };
    match nianbao_audit::extract_text(std::path::Path::new(&path)) {
        Ok(text) => print!(
            "{}",
            nianbao_audit::render_human(&nianbao_audit::audit(&text), &text)
        ),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
