//! What the fuzz targets share: their inputs are lines of text, so that the seed corpora
//! (`fuzz/corpus/<target>/`) are readable examples, written by hand or taken from the vectors.

/// The first `N - 1` lines of `data` and the rest (which may hold newlines), if it is UTF-8 text
/// of at least `N - 1` lines; missing trailing fields are empty.
pub fn fields<const N: usize>(data: &[u8]) -> Option<[&str; N]> {
    let text = std::str::from_utf8(data).ok()?;
    let mut parts = text.splitn(N, '\n');
    Some(std::array::from_fn(|_| parts.next().unwrap_or("")))
}

/// `k=v&k=v` as raw pairs (no decoding): the parameters a client adds to `ext`.
pub fn raw_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}
