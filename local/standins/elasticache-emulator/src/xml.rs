//! A small writer for the Query protocol's XML answers (quick-xml does the escaping).

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The ElastiCache XML namespace (botocore `elasticache/2015-02-02` metadata `xmlNamespace`).
pub const NAMESPACE: &str = "http://elasticache.amazonaws.com/doc/2015-02-02/";

/// Builds one XML document.
pub struct Xml {
    w: Writer<Vec<u8>>,
}

impl Default for Xml {
    fn default() -> Self {
        Self {
            w: Writer::new(Vec::new()),
        }
    }
}

impl Xml {
    /// Opens `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        let _ = self.w.write_event(Event::Start(BytesStart::new(name)));
        self
    }

    /// Opens `<name xmlns="...">`.
    pub fn open_ns(&mut self, name: &str) -> &mut Self {
        let mut start = BytesStart::new(name);
        start.push_attribute(("xmlns", NAMESPACE));
        let _ = self.w.write_event(Event::Start(start));
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = self.w.write_event(Event::End(BytesEnd::new(name)));
        self
    }

    /// `<name>value</name>`, escaped.
    pub fn text(&mut self, name: &str, value: impl AsRef<str>) -> &mut Self {
        self.open(name);
        let _ = self
            .w
            .write_event(Event::Text(BytesText::new(value.as_ref())));
        self.close(name)
    }

    /// `<name>value</name>` when `value` is `Some`.
    pub fn opt(&mut self, name: &str, value: Option<impl AsRef<str>>) -> &mut Self {
        if let Some(v) = value {
            self.text(name, v);
        }
        self
    }

    /// A timestamp in ISO 8601 (the Query protocol's default timestamp format).
    pub fn time(&mut self, name: &str, t: OffsetDateTime) -> &mut Self {
        let s = t.format(&Rfc3339).unwrap_or_default();
        self.text(name, s)
    }

    /// `<Name><Address>127.0.0.1</Address><Port>p</Port></Name>`.
    pub fn endpoint(&mut self, name: &str, port: u16) -> &mut Self {
        self.open(name)
            .text("Address", "127.0.0.1")
            .text("Port", port.to_string())
            .close(name)
    }

    /// The document.
    pub fn finish(self) -> String {
        String::from_utf8(self.w.into_inner()).unwrap_or_default()
    }
}

/// Wraps a result: `<{Action}Response xmlns><{Action}Result>…</{Action}Result><ResponseMetadata>…`.
pub fn response(action: &str, request_id: &str, body: impl FnOnce(&mut Xml)) -> String {
    let mut x = Xml::default();
    let resp = format!("{action}Response");
    let result = format!("{action}Result");
    x.open_ns(&resp).open(&result);
    body(&mut x);
    x.close(&result)
        .open("ResponseMetadata")
        .text("RequestId", request_id)
        .close("ResponseMetadata")
        .close(&resp);
    x.finish()
}

/// A paged Describe answer: `<Marker>` when there is a next page, then `<{list}>` with one item per element.
pub fn paged<T>(
    action: &str,
    request_id: &str,
    marker: Option<&str>,
    list: &str,
    items: &[T],
    mut item: impl FnMut(&mut Xml, &T),
) -> String {
    response(action, request_id, |x| {
        x.opt("Marker", marker);
        x.open(list);
        for i in items {
            item(x, i);
        }
        x.close(list);
    })
}

/// The Query protocol's error document.
pub fn error(code: &str, message: &str, sender: bool, request_id: &str) -> String {
    let mut x = Xml::default();
    x.open_ns("ErrorResponse")
        .open("Error")
        .text("Type", if sender { "Sender" } else { "Receiver" })
        .text("Code", code)
        .text("Message", message)
        .close("Error")
        .text("RequestId", request_id)
        .close("ErrorResponse");
    x.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text() {
        let mut x = Xml::default();
        x.text("Message", "a < b & c");
        assert_eq!(x.finish(), "<Message>a &lt; b &amp; c</Message>");
    }

    #[test]
    fn wraps_results_and_errors() {
        let doc = response("DeleteSnapshot", "r1", |x| {
            x.open("Snapshot")
                .text("SnapshotName", "s")
                .close("Snapshot");
        });
        assert!(doc.starts_with(&format!(
            "<DeleteSnapshotResponse xmlns=\"{NAMESPACE}\"><DeleteSnapshotResult><Snapshot>"
        )));
        assert!(
            doc.ends_with("<RequestId>r1</RequestId></ResponseMetadata></DeleteSnapshotResponse>")
        );
        let err = error("SnapshotNotFoundFault", "gone", true, "r2");
        assert!(
            err.contains("<Code>SnapshotNotFoundFault</Code><Message>gone</Message>"),
            "{err}"
        );
    }
}
