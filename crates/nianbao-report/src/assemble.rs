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
use crate::model::{
    Align, Block, Cover, DRAFT_COVER, Document, Gap, GapKind, Heading, Inline, ListKind, Paragraph,
    Status, number_in_order, walk_mut,
};
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
pub(crate) fn context(input: &ReportInput<'_>, years: &[Year]) -> Value {
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

/// The box a part prints while nothing is written for it.
pub const EMPTY_PART: &str = "【待填写：本节尚无内容】";

/// Renders one part's text. A part with no text, or whose text renders to nothing, prints
/// the empty-part box if `required`; a text that binds a fact without a value prints one
/// box per missing value. Both are recorded in `gaps`. Any other template error stops
/// the report: it names the file and line to fix.
fn part_blocks(
    narrative: &Narrative,
    content: &Content,
    path: &str,
    extra: Value,
    title: &str,
    required: bool,
    gaps: &mut Vec<Gap>,
) -> Result<Vec<Block>, ReportError> {
    let blocks = if content.get(path).is_some() {
        match narrative.render(path, extra) {
            Ok(blocks) => blocks,
            Err(error) => {
                let missing = narrative.take_gaps();
                if missing.is_empty() {
                    return Err(error);
                }
                return Ok(missing
                    .into_iter()
                    .map(|message| {
                        let block = Block::Gap(format!("【待补数据：{message}】"));
                        gaps.push(Gap {
                            part: title.to_string(),
                            kind: GapKind::Data,
                            message,
                        });
                        block
                    })
                    .collect());
            }
        }
    } else {
        Vec::new()
    };
    if blocks.is_empty() && required {
        gaps.push(Gap {
            part: title.to_string(),
            kind: GapKind::Empty,
            message: "尚无内容".into(),
        });
        return Ok(vec![Block::Gap(EMPTY_PART.to_string())]);
    }
    Ok(blocks)
}

/// The paragraph a final report's seal page ends with: the snapshot it was made from and
/// the hash of that snapshot's content.
fn seal(status: &Status) -> Option<Block> {
    let Status::Final(mark) = status else {
        return None;
    };
    Some(Block::Paragraph(Paragraph {
        runs: vec![Inline::plain(format!(
            "定稿编号：第 {} 号；内容摘要（SHA-256）：{}",
            mark.snapshot, mark.hash
        ))],
        align: Align::Left,
    }))
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
    let mut gaps: Vec<Gap> = Vec::new();
    let mut cases = cases::load(
        content,
        &outline.sections.cases,
        &numbers,
        &narrative,
        &mut gaps,
    )?;

    let mut blocks: Vec<Block> = Vec::new();
    for page in &outline.front {
        let title = match (&page.section, &page.title) {
            (Some(number), _) => definitions.section_title(number).unwrap_or_default(),
            (None, Some(title)) => title.as_str(),
            (None, None) => "",
        };
        blocks.push(heading(1, None, title, page.id.clone(), false));
        blocks.extend(part_blocks(
            &narrative,
            content,
            &page.template,
            Value::from(()),
            title,
            true,
            &mut gaps,
        )?);
        if page.id == outline.seal {
            blocks.extend(seal(&input.status));
        }
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
        let case_list = cases.remove(&section.number);
        let case_count = case_list.as_ref().map_or(0, Vec::len);
        let extra = minijinja::context! {
            section => minijinja::context! {
                number => section.number,
                title => section.title,
                cases => case_count,
            },
        };
        let has_children = numbers
            .iter()
            .any(|n| n.starts_with(&format!("{}.", section.number)));
        let title = if level == 1 {
            format!("{}. {}", section.number, section.title)
        } else {
            format!("{} {}", section.number, section.title)
        };
        // A section whose only content is its cases is written: it needs no gap box.
        let required = !has_children && case_count == 0;
        blocks.extend(part_blocks(
            &narrative, content, &own, extra, &title, required, &mut gaps,
        )?);
        if let Some(list) = case_list {
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
    let back = &outline.back;
    let back_title = back.title.clone().unwrap_or_default();
    blocks.push(heading(1, None, &back_title, back.id.clone(), false));
    blocks.extend(part_blocks(
        &narrative,
        content,
        &back.template,
        Value::from(()),
        &back_title,
        true,
        &mut gaps,
    )?);

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
    let status_line = if input.status.is_draft() {
        DRAFT_COVER.to_string()
    } else {
        String::new()
    };
    Ok(Document {
        title: format!("{} {}", school.name, cover_title),
        cover: Cover {
            school: school.name.clone(),
            school_en: school.name_en.clone(),
            designations: school.designations.clone(),
            title: cover_title,
            status: status_line,
            date: chinese_date(&school.report_date),
        },
        blocks,
        status: input.status.clone(),
        gaps,
    })
}
