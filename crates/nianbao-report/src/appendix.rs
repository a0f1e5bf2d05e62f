//! The six appended indicator tables (计分卡, 学生反馈表, 教学资源表, 国际影响表, 服务贡献表,
//! 落实政策表), built from the templates in the outline: one row per element or indicator,
//! one column per year of the report's tables.

use std::collections::BTreeMap;

use nianbao_core::indicator::IndicatorResult;
use nianbao_core::number::Style;
use nianbao_core::{Dataset, Definitions, Year, evaluate_indicators};

use crate::outline::AppendixTable;
use crate::tables::{Cell, HeaderCell, Table};

/// What an appended table prints for a value the dataset does not have.
pub const NO_VALUE: &str = "—";

/// Builds the appended tables; indicators are computed for every year shown.
pub fn build(
    specs: &[AppendixTable],
    definitions: &Definitions,
    data: &Dataset,
    years: &[Year],
) -> Vec<Table> {
    let indicators: BTreeMap<Year, Vec<IndicatorResult>> = years
        .iter()
        .map(|&y| (y, evaluate_indicators(definitions, data, y)))
        .collect();
    specs
        .iter()
        .map(|spec| {
            let header = |text: &str| HeaderCell {
                text: text.to_string(),
                colspan: 1,
                rowspan: 1,
            };
            let mut top = vec![header("项目"), header("单位")];
            top.extend(years.iter().map(|y| header(&format!("{y}年度"))));
            let rows = spec
                .rows
                .iter()
                .map(|row| {
                    let (name, unit, values): (String, String, Vec<Option<String>>) =
                        match row.item.as_deref() {
                            Some(item) => match item.strip_prefix("ind:") {
                                Some(id) => {
                                    let definition = definitions.indicator(id);
                                    let values = years
                                        .iter()
                                        .map(|y| {
                                            indicators
                                                .get(y)
                                                .and_then(|list| list.iter().find(|i| i.id == id))
                                                .and_then(|i| i.display.clone())
                                        })
                                        .collect();
                                    (
                                        definition.map(|d| d.name.clone()).unwrap_or_default(),
                                        definition.map(|d| d.unit.clone()).unwrap_or_default(),
                                        values,
                                    )
                                }
                                None => {
                                    let element = definitions.elements.get(item);
                                    let style =
                                        element.map_or(Style::NUMBER, |e| Style::of(e.kind));
                                    let values = years
                                        .iter()
                                        .map(|y| data.value(*y, item).map(|v| style.format(v)))
                                        .collect();
                                    (
                                        element.map(|e| e.name.clone()).unwrap_or_default(),
                                        element.map(|e| e.unit.clone()).unwrap_or_default(),
                                        values,
                                    )
                                }
                            },
                            None => (String::new(), String::new(), vec![None; years.len()]),
                        };
                    let mut cells = vec![
                        label(row.label.clone().unwrap_or(name)),
                        value(row.unit.clone().unwrap_or(unit)),
                    ];
                    cells.extend(
                        values
                            .into_iter()
                            .map(|v| value(v.unwrap_or_else(|| NO_VALUE.to_string()))),
                    );
                    cells
                })
                .collect();
            Table {
                id: String::new(),
                number: 0,
                caption: spec.title.clone(),
                header: vec![top],
                rows,
            }
        })
        .collect()
}

fn label(text: String) -> Cell {
    Cell {
        text,
        rowspan: 1,
        label: true,
    }
}

fn value(text: String) -> Cell {
    Cell {
        text,
        rowspan: 1,
        label: false,
    }
}
