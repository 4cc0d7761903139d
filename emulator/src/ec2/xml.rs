//! A small XML writer for EC2 responses: elements, escaped text and `<item>` lists.

use std::fmt::Write as _;

/// EC2's response namespace (not checked by the SDKs, but real EC2 sends it).
pub const NAMESPACE: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Appends elements to a buffer. Element names are trusted constants; text is always escaped.
#[derive(Debug, Default)]
pub struct Xml {
    buf: String,
}

impl Xml {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_string(self) -> String {
        self.buf
    }

    pub fn open(&mut self, name: &str) {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }

    /// `<name>children</name>`.
    pub fn node(&mut self, name: &str, children: impl FnOnce(&mut Self)) {
        self.open(name);
        children(self);
        self.close(name);
    }

    /// `<name>text</name>` (an empty string gives `<name></name>`).
    pub fn text(&mut self, name: &str, value: &str) {
        self.open(name);
        self.buf.push_str(&escape(value));
        self.close(name);
    }

    pub fn opt_text(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.text(name, value);
        }
    }

    /// Booleans are always the literals `true`/`false` (the Rust SDK rejects anything else).
    pub fn bool(&mut self, name: &str, value: bool) {
        self.text(name, if value { "true" } else { "false" });
    }

    pub fn opt_bool(&mut self, name: &str, value: Option<bool>) {
        if let Some(value) = value {
            self.bool(name, value);
        }
    }

    pub fn int(&mut self, name: &str, value: i64) {
        self.open(name);
        let _ = write!(self.buf, "{value}");
        self.close(name);
    }

    /// `<name><code>..</code><message>..</message></name>`, the shape of every status object.
    pub fn status(&mut self, name: &str, code: &str, message: Option<&str>) {
        self.node(name, |x| {
            x.text("code", code);
            x.opt_text("message", message);
        });
    }

    /// `<name><item>…</item>…</name>`; an empty list gives an empty wrapper.
    pub fn list<T>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = T>,
        mut item: impl FnMut(&mut Self, T),
    ) {
        self.open(name);
        for value in items {
            self.open("item");
            item(self, value);
            self.close("item");
        }
        self.close(name);
    }

    /// `<name><item>text</item>…</name>`.
    pub fn string_list<'a>(&mut self, name: &str, items: impl IntoIterator<Item = &'a String>) {
        self.open(name);
        for value in items {
            self.text("item", value);
        }
        self.close(name);
    }
}

/// A complete success document: `<{Action}Response xmlns=…><requestId>…</requestId>body</…>`.
pub fn success_document(action: &str, request_id: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 200);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{NAMESPACE}\"><requestId>{}</requestId>{body}</{action}Response>",
        escape(request_id)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<ca>&\"'"), "&lt;ca&gt;&amp;&quot;&apos;");
        assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn writes_lists_and_statuses() {
        let mut x = Xml::new();
        x.string_list("dnsServer", &["10.0.0.2".to_owned()]);
        x.status("status", "available", None);
        x.list("tagSet", [("k", "v<")], |x, (k, v)| {
            x.text("key", k);
            x.text("value", v);
        });
        assert_eq!(
            x.into_string(),
            "<dnsServer><item>10.0.0.2</item></dnsServer><status><code>available</code></status>\
             <tagSet><item><key>k</key><value>v&lt;</value></item></tagSet>"
        );
    }

    #[test]
    fn success_document_has_root_and_request_id() {
        let doc = success_document("DeleteTags", "rid", "<return>true</return>");
        assert!(
            doc.contains("<DeleteTagsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">")
        );
        assert!(
            doc.contains("<requestId>rid</requestId><return>true</return></DeleteTagsResponse>")
        );
    }
}
