//! Where each key and value of a JSON document starts, by JSON pointer (`/zone/records/0/type`).
//!
//! serde_json locates syntax errors but a `Value` forgets positions; this small second pass over
//! text that serde_json has already accepted records them, so that a semantic error (an unknown
//! key, a bad record value) can be reported as `file:line:column` like a syntax error.

use std::collections::HashMap;

/// Offsets of keys and values, by pointer. The root value is at "".
#[derive(Debug, Default)]
pub(crate) struct Spans {
    values: HashMap<String, usize>,
    keys: HashMap<String, usize>,
}

impl Spans {
    /// Scans `text`, which must be JSON that serde_json accepted.
    pub(crate) fn of(text: &str) -> Spans {
        let mut s = Scanner { b: text.as_bytes(), pos: 0, out: Spans::default() };
        s.value(String::new());
        s.out
    }

    /// The offset of the value at `ptr`, else of the nearest enclosing value that has one.
    pub(crate) fn value(&self, ptr: &str) -> usize {
        let mut p = ptr;
        loop {
            if let Some(o) = self.values.get(p) {
                return *o;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return 0,
            }
        }
    }

    /// The offset of the key naming the member at `ptr` (falls back to its value).
    pub(crate) fn key(&self, ptr: &str) -> usize {
        self.keys.get(ptr).copied().unwrap_or_else(|| self.value(ptr))
    }
}

/// Appends a key or index to a pointer, escaped as RFC 6901 says.
pub(crate) fn child(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", key.replace('~', "~0").replace('/', "~1"))
}

struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
    out: Spans,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn value(&mut self, ptr: String) {
        self.ws();
        if self.pos >= self.b.len() {
            return;
        }
        self.out.values.insert(ptr.clone(), self.pos);
        match self.b[self.pos] {
            b'{' => {
                self.pos += 1;
                loop {
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b'}') | None => {
                            self.pos += 1;
                            return;
                        }
                        Some(b',') => self.pos += 1,
                        Some(_) => {
                            let at = self.pos;
                            let key = self.string();
                            let p = child(&ptr, &key);
                            self.out.keys.insert(p.clone(), at);
                            self.ws();
                            self.pos += 1; // ':'
                            self.value(p);
                        }
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut i = 0;
                loop {
                    self.ws();
                    match self.b.get(self.pos) {
                        Some(b']') | None => {
                            self.pos += 1;
                            return;
                        }
                        Some(b',') => self.pos += 1,
                        Some(_) => {
                            self.value(child(&ptr, &i.to_string()));
                            i += 1;
                        }
                    }
                }
            }
            b'"' => {
                self.string();
            }
            _ => {
                while self.pos < self.b.len()
                    && !matches!(self.b[self.pos], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    self.pos += 1;
                }
            }
        }
    }

    /// Reads a string literal at `pos` and returns it decoded.
    fn string(&mut self) -> String {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.b.len() {
            match self.b[self.pos] {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        let end = self.pos.min(self.b.len());
        std::str::from_utf8(&self.b[start..end]).ok().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_located() {
        let text = "{\n  \"zone\": {\"records\": [\n    {\"name\": \"a.\", \"ty\\u0070e\": \"A\"},\n    {\"a/b\": [1, {\"x\": null}]}\n  ]}\n}";
        let s = Spans::of(text);
        let at = |o: usize| crate::input::line_col(text, o);
        assert_eq!(at(s.value("/zone/records/0/name")), (3, 14));
        assert_eq!(at(s.key("/zone/records/0/type")), (3, 20));
        assert_eq!(at(s.value("/zone/records/1/a~1b/1/x")), (4, 23));
        assert_eq!(at(s.value("/zone/records/7/nothing")), at(s.value("/zone/records")));
        assert_eq!(s.value(""), 0);
    }
}
