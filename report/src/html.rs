//! Escaping: every value that reaches the page from a history, a target or a log goes through
//! [`esc`] (HTML text and attributes) or [`script_json`] (data inside a `<script>` element).

use std::fmt::Write;

/// Escapes `&`, `<`, `>`, `"` and `'`: safe in element text and in quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` element: `<`, `>` and `&` become `\u003c`…,
/// so no value can close the element or open a comment; the line separators JavaScript
/// rejects in strings are escaped too.
pub fn script_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value in a line of text, cut to `max` characters.
pub fn short(value: &serde_json::Value, max: usize) -> String {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "nil".to_string(),
        v => v.to_string(),
    };
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Seconds in a compact human form.
pub fn seconds(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.0} ms", s * 1e3)
    }
}

/// Appends `<tr><td>…</td>…</tr>` with each cell escaped.
pub fn row(out: &mut String, cells: &[&str]) {
    out.push_str("<tr>");
    for c in cells {
        let _ = write!(out, "<td>{}</td>", esc(c));
    }
    out.push_str("</tr>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_in_text_and_attributes() {
        assert_eq!(esc(r#"<script>alert("x")</script> & 'y'"#), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let v = serde_json::json!({"v": "</script><script>alert(1)</script><!--", "s": "a\u{2028}b"});
        let out = script_json(&v);
        assert!(!out.contains('<') && !out.contains('>'), "{out}");
        assert!(!out.contains('\u{2028}'));
        // Still the same value once parsed.
        assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), v);
    }

    #[test]
    fn short_cuts_long_values() {
        assert_eq!(short(&serde_json::json!("abcdef"), 4), "abc…");
        assert_eq!(short(&serde_json::json!(null), 4), "nil");
        assert_eq!(short(&serde_json::json!([1, 2]), 10), "[1,2]");
    }
}
