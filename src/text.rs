//! Text shown in messages: a user's input or a tool's line, cut so one long value cannot
//! flood a message.

/// `text` cut to `max` characters, with `…` when something was cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    let mut short: String = text.chars().take(max).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    #[test]
    fn cuts_by_characters_and_says_so() {
        assert_eq!(super::cut("abc", 3), "abc");
        assert_eq!(super::cut("abcd", 3), "abc…");
        assert_eq!(super::cut("ääää", 2), "ää…");
    }
}
