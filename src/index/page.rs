//! A project's page on the index (PEP 691 JSON) read: its state (serial, or a digest of its
//! files), its unyanked file names, and its downloadable files with their URLs and hashes.

#[derive(serde::Deserialize)]
struct ProjectPage {
    #[serde(default)]
    meta: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    files: Vec<FileEntry>,
}

#[derive(serde::Deserialize)]
struct FileEntry {
    filename: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    yanked: serde_json::Value,
}

/// A project page's state: `_last-serial` if given, else a digest of its files.
pub fn state_of(body: &[u8]) -> Result<String, String> {
    let page: ProjectPage = serde_json::from_slice(body).map_err(|e| format!("not a PEP 691 project page: {e}"))?;
    if let Some(serial) = page.meta.get("_last-serial").and_then(|s| s.as_u64()) {
        // A serial alone is not enough for an index that numbers by file count: add the list.
        return Ok(format!("serial {serial}, {} files, {}", page.files.len(), files_digest(&page.files)));
    }
    Ok(format!("{} files, {}", page.files.len(), files_digest(&page.files)))
}

/// The files of a project page that are not yanked (PEP 691: `yanked` is `true` or a reason,
/// and any string, even an empty one, means yanked).
pub fn files_of(body: &[u8]) -> Result<Vec<String>, String> {
    Ok(unyanked(body)?.map(|f| f.filename).collect())
}

/// A project page's files that are not yanked.
fn unyanked(body: &[u8]) -> Result<impl Iterator<Item = FileEntry>, String> {
    let page: ProjectPage = serde_json::from_slice(body).map_err(|e| format!("not a PEP 691 project page: {e}"))?;
    let yanked = |v: &serde_json::Value| v.as_bool().unwrap_or(false) || v.is_string();
    Ok(page.files.into_iter().filter(move |f| !yanked(&f.yanked)))
}

/// One file of a project on the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub filename: String,
    /// Absolute: the page's `url` resolved against the page's own address.
    pub url: String,
    pub sha256: Option<String>,
}

/// The files of a project page at `page_url` that are not yanked, with absolute addresses.
pub fn downloadable_of(page_url: &str, body: &[u8]) -> Result<Vec<IndexFile>, String> {
    Ok(unyanked(body)?
        .filter(|f| !f.url.is_empty())
        .map(|f| IndexFile {
            url: resolve(page_url, &f.url),
            sha256: f.hashes.get("sha256").cloned(),
            filename: f.filename,
        })
        .collect())
}

/// A reference of a page resolved against the page's address (RFC 3986's cases a simple
/// index uses: absolute, scheme-relative, absolute path, relative path with `..`).
pub(super) fn resolve(base: &str, reference: &str) -> String {
    // A fragment (`#sha256=…`) is not part of the address asked for.
    let reference = reference.split('#').next().unwrap_or_default();
    if reference.contains("://") {
        return reference.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    if let Some(r) = reference.strip_prefix("//") {
        return format!("{scheme}://{r}");
    }
    let (authority, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let joined = if reference.starts_with('/') {
        reference.to_string()
    } else {
        format!("{}{reference}", &path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)])
    };
    let (path, query) = joined.split_once('?').map(|(p, _)| (p, &joined[p.len()..])).unwrap_or((&joined, ""));
    let mut out: Vec<&str> = vec![];
    for seg in path.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("{scheme}://{authority}/{}{query}", out.join("/"))
}

fn files_digest(files: &[FileEntry]) -> String {
    let mut lines: Vec<String> = files.iter().map(|f| format!("{} {:?} {}", f.filename, f.hashes, f.yanked)).collect();
    lines.sort();
    crate::key::key(&lines.iter().map(String::as_str).collect::<Vec<_>>())
}
