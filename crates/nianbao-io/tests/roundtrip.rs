//! export(import(x)) == x: a dataset written as a folder reads back unchanged.

use nianbao_core::Definitions;
use nianbao_io::{read_dataset, write_dataset};
use proptest::prelude::*;

fn definitions() -> Definitions {
    Definitions::builtin().expect("built-in definitions load")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_written_dataset_reads_back_unchanged(data in nianbao_core::arbitrary::dataset(&definitions())) {
        let dir = tempfile::tempdir().unwrap();
        write_dataset(dir.path(), &data).unwrap();
        let back = read_dataset(dir.path(), &definitions()).unwrap();
        prop_assert_eq!(&back, &data);
        // Writing what was read gives the same files again.
        let again = tempfile::tempdir().unwrap();
        write_dataset(again.path(), &back).unwrap();
        for file in ["school.toml", "majors.csv", "students.csv"] {
            prop_assert_eq!(
                std::fs::read_to_string(dir.path().join(file)).unwrap(),
                std::fs::read_to_string(again.path().join(file)).unwrap()
            );
        }
    }
}

#[test]
fn the_sample_school_reads_back_unchanged() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/qianjiang");
    let data = read_dataset(std::path::Path::new(sample), &definitions()).unwrap();
    assert_eq!(data.majors.len(), 22);
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), &data).unwrap();
    assert_eq!(read_dataset(dir.path(), &definitions()).unwrap(), data);
}
