//! Typical cases (典型案例) as the web app edits them: a title, the section they are
//! printed in, their order there, a text with bindings and one to four photos with
//! captions. A case is one content file (`cases/<name>.md`, front matter and body) and its
//! photos are pictures beside it; a case and its photos always change in one transaction.

use std::collections::BTreeMap;

use nianbao_core::Year;
use nianbao_report::Content;
use nianbao_report::cases::{CaseImage, CaseMeta, MAX_CASE_IMAGES, read_case, write_case};
use nianbao_report::photo::Photo;
use nianbao_report::preview::validate;
use nianbao_store::{StoredImage, TextSave};

use crate::{Authoring, AuthoringError};

const CASES: &str = "cases/";

/// A case as stored.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// The file name without `.md`: the case's address in URLs ("case-3").
    pub slug: String,
    pub path: String,
    /// The newest version (0 for a case in the generic content only).
    pub version: i64,
    pub meta: CaseMeta,
    pub body: String,
}

/// What the case form submits.
#[derive(Debug, Clone)]
pub struct CaseEdit<'a> {
    pub title: &'a str,
    pub section: &'a str,
    pub order: i64,
    pub body: &'a str,
    /// The captions of the photos the case already has, in order.
    pub captions: Vec<String>,
}

/// A photo to add to a case, already prepared by [`nianbao_report::photo::prepare`] (which
/// takes a moment, so callers run it where blocking is fine).
#[derive(Debug, Clone)]
pub struct PhotoUpload<'a> {
    pub photo: Photo,
    pub caption: &'a str,
}

/// Whether a case name is safe in a path and a URL: ASCII letters, digits, `-` and `_`.
pub fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 64
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// How many cases each section prints.
pub(crate) fn count_by_section(content: &Content) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (path, file) in content.files() {
        if path.starts_with(CASES)
            && path.ends_with(".md")
            && let Ok(text) = file.text()
            && let Ok((meta, _)) = read_case(text)
        {
            *counts.entry(meta.section).or_insert(0) += 1;
        }
    }
    counts
}

fn case_path(slug: &str) -> String {
    format!("{CASES}{slug}.md")
}

impl Authoring<'_> {
    /// Every case of a school's report for a year, by section and order.
    pub async fn cases(&self, code: &str, year: Year) -> Result<Vec<CaseView>, AuthoringError> {
        let mut out = Vec::new();
        for text in self.store().report_texts(code, year).await? {
            let Some(slug) = text
                .path
                .strip_prefix(CASES)
                .and_then(|n| n.strip_suffix(".md"))
            else {
                continue;
            };
            let (meta, body) = read_case(&text.body).map_err(|message| {
                AuthoringError::Refused(format!("案例文件 {} 无法读取：{message}", text.path))
            })?;
            out.push(CaseView {
                slug: slug.to_string(),
                path: text.path,
                version: text.version,
                meta,
                body,
            });
        }
        out.sort_by(|a, b| {
            (&a.meta.section, a.meta.order, &a.slug).cmp(&(&b.meta.section, b.meta.order, &b.slug))
        });
        Ok(out)
    }

    /// One case.
    pub async fn case(
        &self,
        code: &str,
        year: Year,
        slug: &str,
    ) -> Result<CaseView, AuthoringError> {
        self.cases(code, year)
            .await?
            .into_iter()
            .find(|c| c.slug == slug)
            .ok_or_else(|| AuthoringError::Refused(format!("案例「{slug}」不存在")))
    }

    fn check_case(
        &self,
        content: &Content,
        meta: &CaseMeta,
        body: &str,
    ) -> Result<(), AuthoringError> {
        let mut problems = Vec::new();
        if meta.title.trim().is_empty() {
            problems.push("案例标题不能为空".to_string());
        }
        if meta.section == "0" || self.definitions().section_title(&meta.section).is_none() {
            problems.push(format!("章节「{}」不在报告提纲中", meta.section));
        }
        if meta.images.len() > MAX_CASE_IMAGES {
            problems.push(format!("每个案例最多 {MAX_CASE_IMAGES} 张照片"));
        }
        for image in &meta.images {
            if image.caption.trim().is_empty() {
                problems.push(format!("照片 {} 缺少图题", image.file));
            }
        }
        if !problems.is_empty() {
            return Err(AuthoringError::Refused(problems.join("；")));
        }
        let found = validate(self.definitions(), content, "案例正文", body);
        if !found.is_empty() {
            return Err(AuthoringError::Invalid {
                file: format!("案例「{}」", meta.title.trim()),
                problems: found,
            });
        }
        Ok(())
    }

    /// Creates a case (`slug` is `None`) or saves a new version of one, if its author
    /// started from the newest version. Returns the case's slug.
    pub async fn save_case(
        &self,
        code: &str,
        year: Year,
        slug: Option<&str>,
        base_version: i64,
        edit: &CaseEdit<'_>,
        actor: &str,
    ) -> Result<String, AuthoringError> {
        let existing = match slug {
            Some(slug) => Some(self.case(code, year, slug).await?),
            None => None,
        };
        let slug = match slug {
            Some(slug) => slug.to_string(),
            None => self.next_slug(code, year).await?,
        };
        let mut images: Vec<CaseImage> = existing
            .as_ref()
            .map(|c| c.meta.images.clone())
            .unwrap_or_default();
        for (image, caption) in images.iter_mut().zip(&edit.captions) {
            image.caption = caption.trim().to_string();
        }
        let meta = CaseMeta {
            title: edit.title.trim().to_string(),
            section: edit.section.trim().to_string(),
            order: edit.order,
            images,
        };
        let content = self.content(code, year).await?;
        self.check_case(&content, &meta, edit.body)?;
        let text = write_case(&meta, edit.body);
        let path = case_path(&slug);
        let old_section = existing.as_ref().map(|c| c.meta.section.clone());
        let mut parts: Vec<&str> = vec![meta.section.as_str()];
        if let Some(old) = old_section.as_deref()
            && old != meta.section
        {
            parts.push(old);
        }
        let save = TextSave {
            path: &path,
            parts: &parts,
            base_version,
            body: Some(&text),
        };
        self.store()
            .save_content(code, year, &[save], &[], &[], actor)
            .await?;
        Ok(slug)
    }

    async fn next_slug(&self, code: &str, year: Year) -> Result<String, AuthoringError> {
        let mut used: Vec<u32> = Vec::new();
        for case in self.cases(code, year).await? {
            if let Some(n) = case.slug.strip_prefix("case-").and_then(|n| n.parse().ok()) {
                used.push(n);
            }
        }
        // Deleted cases keep their name, so a new case never takes over their history.
        for text in self.store().report_text_paths(code, year).await? {
            if let Some(n) = text
                .strip_prefix("cases/case-")
                .and_then(|n| n.strip_suffix(".md"))
                .and_then(|n| n.parse().ok())
            {
                used.push(n);
            }
        }
        Ok(format!("case-{}", used.into_iter().max().unwrap_or(0) + 1))
    }

    /// Adds a prepared photo (checked, turned upright, scaled and stripped of metadata) to
    /// a case: stored with the case's new version in one transaction.
    pub async fn add_photo(
        &self,
        code: &str,
        year: Year,
        slug: &str,
        base_version: i64,
        upload: PhotoUpload<'_>,
        actor: &str,
    ) -> Result<(), AuthoringError> {
        let case = self.case(code, year, slug).await?;
        if case.meta.images.len() >= MAX_CASE_IMAGES {
            return Err(AuthoringError::Refused(format!(
                "每个案例最多 {MAX_CASE_IMAGES} 张照片：请先删除一张"
            )));
        }
        if upload.caption.trim().is_empty() {
            return Err(AuthoringError::Refused("请为照片写一句图题".into()));
        }
        let photo = upload.photo;
        let taken: Vec<&str> = case.meta.images.iter().map(|i| i.file.as_str()).collect();
        let file = (1..)
            .map(|n| format!("images/{slug}-{n}.jpg"))
            .find(|f| !taken.contains(&f.as_str()))
            .unwrap_or_default();
        let mut meta = case.meta.clone();
        meta.images.push(CaseImage {
            file: file.clone(),
            caption: upload.caption.trim().to_string(),
        });
        let text = write_case(&meta, &case.body);
        let path = case_path(slug);
        let parts = [meta.section.as_str()];
        let save = TextSave {
            path: &path,
            parts: &parts,
            base_version,
            body: Some(&text),
        };
        let image = StoredImage {
            path: file,
            bytes: photo.jpeg,
            width: photo.width,
            height: photo.height,
            uploaded_by: actor.to_string(),
            uploaded_at: String::new(),
        };
        self.store()
            .save_content(code, year, &[save], &[image], &[], actor)
            .await?;
        Ok(())
    }

    /// Removes a case's photo (by its place, 0-based) with the case's new version.
    pub async fn remove_photo(
        &self,
        code: &str,
        year: Year,
        slug: &str,
        base_version: i64,
        index: usize,
        actor: &str,
    ) -> Result<(), AuthoringError> {
        let case = self.case(code, year, slug).await?;
        let mut meta = case.meta.clone();
        if index >= meta.images.len() {
            return Err(AuthoringError::Refused(
                "这张照片已不存在，请刷新页面".into(),
            ));
        }
        let removed = meta.images.remove(index);
        let text = write_case(&meta, &case.body);
        let path = case_path(slug);
        let parts = [meta.section.as_str()];
        let save = TextSave {
            path: &path,
            parts: &parts,
            base_version,
            body: Some(&text),
        };
        self.store()
            .save_content(code, year, &[save], &[], &[removed.file.as_str()], actor)
            .await?;
        Ok(())
    }

    /// Deletes a case and its photos (its history stays).
    pub async fn delete_case(
        &self,
        code: &str,
        year: Year,
        slug: &str,
        base_version: i64,
        actor: &str,
    ) -> Result<(), AuthoringError> {
        let case = self.case(code, year, slug).await?;
        let path = case_path(slug);
        let parts = [case.meta.section.as_str()];
        let save = TextSave {
            path: &path,
            parts: &parts,
            base_version,
            body: None,
        };
        let photos: Vec<&str> = case.meta.images.iter().map(|i| i.file.as_str()).collect();
        self.store()
            .save_content(code, year, &[save], &[], &photos, actor)
            .await?;
        Ok(())
    }

    /// Moves a case one place up (`-1`) or down (`1`) among the cases of its section; the
    /// section's cases are numbered again 1, 2, 3 … in one transaction.
    pub async fn move_case(
        &self,
        code: &str,
        year: Year,
        slug: &str,
        step: i64,
        actor: &str,
    ) -> Result<(), AuthoringError> {
        let case = self.case(code, year, slug).await?;
        let mut siblings: Vec<CaseView> = self
            .cases(code, year)
            .await?
            .into_iter()
            .filter(|c| c.meta.section == case.meta.section)
            .collect();
        let Some(at) = siblings.iter().position(|c| c.slug == slug) else {
            return Ok(());
        };
        let to = at as i64 + step;
        if to < 0 || to >= siblings.len() as i64 {
            return Ok(());
        }
        siblings.swap(at, to as usize);
        let texts: Vec<(String, i64, String)> = siblings
            .iter()
            .enumerate()
            .map(|(place, c)| {
                let mut meta = c.meta.clone();
                meta.order = place as i64 + 1;
                (c.path.clone(), c.version, write_case(&meta, &c.body))
            })
            .collect();
        let parts = [case.meta.section.as_str()];
        let saves: Vec<TextSave<'_>> = texts
            .iter()
            .map(|(path, version, text)| TextSave {
                path,
                parts: &parts,
                base_version: *version,
                body: Some(text),
            })
            .collect();
        self.store()
            .save_content(code, year, &saves, &[], &[], actor)
            .await?;
        Ok(())
    }
}
