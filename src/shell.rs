//! Text for a POSIX shell: the one quoting function for every word linres writes into a script
//! (the SLURM scripts) or shows as a command to type again.

/// `text` as one shell word: unchanged when it is not empty, consists only of characters no shell
/// treats specially (letters, digits and `-_./=,:@+%`) and does not read as an assignment
/// (`NAME=…` in the place of a command); else in single quotes, each `'` written `'\''`. Inside
/// single quotes every byte but `'` is literal, so the word is `text` exactly, whatever it holds.
pub fn word(text: &str) -> String {
    let plain = text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:@+%".contains(c));
    let assignment = text.split_once('=').is_some_and(|(name, _)| {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !text.is_empty() && plain && !assignment {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::word;

    #[test]
    fn plain_words_stay_and_everything_else_is_quoted() {
        assert_eq!(word("/opt/bin/linres"), "/opt/bin/linres");
        assert_eq!(word("model.width=40,200"), "model.width=40,200");
        assert_eq!(word(""), "''");
        assert_eq!(word("a b"), "'a b'");
        assert_eq!(word("exp's"), r"'exp'\''s'");
        assert_eq!(word("$(touch x)`y`;z"), "'$(touch x)`y`;z'");
        assert_eq!(word("~"), "'~'");
        // A word in the place of a command that reads as an assignment would set a variable.
        assert_eq!(word("PATH=/tmp"), "'PATH=/tmp'");
        assert_eq!(word("seed=0"), "'seed=0'");
    }
}
