//! A lexical bound on how deeply a GraphQL document nests, checked before it is parsed. The
//! parser recurses once per `{`, `[` or `(`, so a document of a few thousand nested list
//! brackets overflows the stack of the thread parsing it and aborts the whole process; no
//! depth or complexity limit helps, those run after parsing.

/// Deepest bracket nesting accepted: selections are limited to `MARGIN_MAX_DEPTH` (15) anyway,
/// so real documents stay far below this.
pub const MAX_NESTING: usize = 64;

/// True when `{`, `[` and `(` outside strings and comments nest deeper than `limit`.
pub fn too_deep(document: &str, limit: usize) -> bool {
    let bytes = document.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 2;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_count_outside_strings_and_comments() {
        let deep = format!("{{ x(a: {}1{}) }}", "[".repeat(70), "]".repeat(70));
        assert!(too_deep(&deep, MAX_NESTING));
        assert!(!too_deep("{ a { b { c } } }", 3));
        assert!(too_deep("{ a { b { c { d } } } }", 3));
        let quoted = format!("{{ x(a: \"{}\") }}", "[".repeat(100));
        assert!(!too_deep(&quoted, MAX_NESTING));
        let escaped = format!("{{ x(a: \"\\\"{}\") }}", "{".repeat(100));
        assert!(!too_deep(&escaped, MAX_NESTING));
        let block = format!("{{ x(a: \"\"\" \\\"\"\" {} \"\"\") }}", "(".repeat(100));
        assert!(!too_deep(&block, MAX_NESTING));
        let comment = format!("{{ x # {}\n }}", "[".repeat(100));
        assert!(!too_deep(&comment, MAX_NESTING));
        // Unbalanced closers do not underflow.
        assert!(!too_deep("}}}] { }", 1));
    }

    #[test]
    fn the_parser_survives_the_deepest_accepted_document() {
        let deepest = format!(
            "{{ x(a: {}1{}) }}",
            "[".repeat(MAX_NESTING - 2),
            "]".repeat(MAX_NESTING - 2)
        );
        assert!(!too_deep(&deepest, MAX_NESTING));
        assert!(async_graphql::parser::parse_query(&deepest).is_ok());
    }
}
