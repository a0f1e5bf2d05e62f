//! Builds the `Document` from the outline, the narrative templates, the cases and the
//! data: front matter, generated lists, chapters 1–8 with the numbering of
//! `data/sections.toml`, the appended tables and the data notes; then numbers figures,
//! tables and cases in order of appearance.

use minijinja::Value;
use nianbao_core::Year;
use serde::Serialize;

use crate::content::Content;
use crate::error::ReportError;
use crate::format::chinese_date;
use crate::model::{Block, Cover, Document, Heading, ListKind, number_in_order, walk_mut};
use crate::narrative::Narrative;
use crate::outline::Outline;
use crate::{ReportInput, appendix, cases, notes, table_years};

/// A 专业大类 with its majors and enrolment in the report year.
#[derive(Debug, Clone, Serialize)]
struct CategoryRow {
    name: String,
    edition: Option<u16>,
    majors: Vec<String>,
    enrolled: f64,
}

fn anchor(number: &str) -> String {
    format!("s{}", number.replace('.', "-"))
}

fn heading(level: u8, number: Option<&str>, text: &str, id: String, in_toc: bool) -> Block {
    Block::Heading(Heading {
        level,
        number: number.map(str::to_string),
        text: text.to_string(),
        id,
        in_toc,
        page_break: level == 1,
    })
}

/// The template context every narrative sees.
fn context(input: &ReportInput<'_>, years: &[Year]) -> Value {
    let data = input.data;
    let year = input.year;
    let categories: Vec<CategoryRow> = data
        .categories()
        .into_iter()
        .map(|name| CategoryRow {
            name: name.to_string(),
            edition: input.definitions.majors.category(name).map(|c| c.edition),
            majors: data.majors_in(name).map(|m| m.name.clone()).collect(),
            enrolled: data
                .majors_in(name)
                .filter_map(|m| data.major_value(year, "major.enrolled", &m.name))
                .sum(),
        })
        .collect();
    let standards: Vec<Value> = input
        .definitions
        .standards
        .iter()
        .map(|s| minijinja::context! { id => s.id, name => s.name, source => s.source })
        .collect();
    minijinja::context! {
        school => data.school,
        report_date => chinese_date(&data.school.report_date),
        year => year.get(),
        prev_year => year.back(1).map(Year::get),
        years => years.iter().map(|y| y.get()).collect::<Vec<_>>(),
        majors => data.majors,
        categories => categories,
        indicators => input.indicators,
        standards => standards,
    }
}

/// Builds the whole report from its input and content.
pub fn build(input: &ReportInput<'_>, content: &Content) -> Result<Document, ReportError> {
    if !input.data.years().contains(&input.year) {
        return Err(ReportError::NoData { year: input.year });
    }
    let definitions = input.definitions;
    let data = input.data;
    let years = table_years(data, input.year);
    let outline = Outline::load(content, definitions)?;
    let narrative = Narrative::new(
        definitions,
        data,
        input.year,
        &years,
        input.indicators,
        content,
        context(input, &years),
    )?;
    let chapters: Vec<&nianbao_core::definitions::Section> = definitions
        .sections
        .iter()
        .filter(|s| s.number != "0")
        .collect();
    let numbers: Vec<String> = chapters.iter().map(|s| s.number.clone()).collect();
    let mut cases = cases::load(content, &outline.sections.cases, &numbers, &narrative)?;

    let mut blocks: Vec<Block> = Vec::new();
    for page in &outline.front {
        let title = match (&page.section, &page.title) {
            (Some(number), _) => definitions.section_title(number).unwrap_or_default(),
            (None, Some(title)) => title.as_str(),
            (None, None) => "",
        };
        blocks.push(heading(1, None, title, page.id.clone(), false));
        blocks.extend(narrative.render(&page.template, Value::from(()))?);
    }
    for list in &outline.lists {
        let kind = ListKind::from(*list);
        blocks.push(heading(
            1,
            None,
            kind.title(),
            format!("list-{list:?}").to_lowercase(),
            false,
        ));
        blocks.push(Block::ListOf(kind));
    }
    for section in &chapters {
        let level = match section.number.matches('.').count() {
            0 => 1,
            1 => 2,
            _ => 3,
        };
        blocks.push(heading(
            level,
            Some(&section.number),
            &section.title,
            anchor(&section.number),
            true,
        ));
        let own = format!(
            "{}/{}.md",
            outline.sections.folder.trim_end_matches('/'),
            section.number
        );
        let case_count = cases.get(&section.number).map_or(0, Vec::len);
        let extra = minijinja::context! {
            section => minijinja::context! {
                number => section.number,
                title => section.title,
                cases => case_count,
            },
        };
        if content.get(&own).is_some() {
            blocks.extend(narrative.render(&own, extra)?);
        } else if level > 1 {
            blocks.extend(narrative.render(&outline.sections.generic, extra)?);
        }
        if let Some(list) = cases.remove(&section.number) {
            blocks.extend(list);
        }
    }
    blocks.push(heading(
        1,
        None,
        &outline.appendix.title,
        "appendix".into(),
        true,
    ));
    if let Some(intro) = &outline.appendix.intro {
        blocks.extend(narrative.render(intro, Value::from(()))?);
    }
    for table in appendix::build(&outline.appendix.tables, definitions, data, &years) {
        blocks.push(Block::Table(Box::new(table)));
    }
    blocks.extend(notes::blocks(
        definitions,
        data,
        &years,
        input.findings,
        input.acceptances,
    ));

    number_in_order(&mut blocks);
    let mut next = 0;
    walk_mut(&mut blocks, &mut |block| {
        if let Block::Heading(h) = block
            && h.id.is_empty()
        {
            next += 1;
            h.id = format!("h-{next}");
        }
    });
    let school = &data.school;
    let cover_title = outline
        .cover
        .title
        .replace("{year}", &input.year.to_string());
    Ok(Document {
        title: format!("{} {}", school.name, cover_title),
        cover: Cover {
            school: school.name.clone(),
            school_en: school.name_en.clone(),
            designations: school.designations.clone(),
            title: cover_title,
            date: chinese_date(&school.report_date),
        },
        blocks,
    })
}
