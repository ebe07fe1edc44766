//! A small Dockerfile reader: parser directives, comments, line
//! continuations, heredocs, instructions with their arguments, and build
//! stages (`FROM image AS name`). It understands only what the delivery
//! checks need, and it says where it gives up: anything that does not parse
//! is a [`ParseError`] with a line, so a check reports `error` rather than
//! passing on a file it could not read.
//!
//! Pure text processing: nothing here runs Docker or reads other files.

use std::collections::HashMap;

/// Every instruction the Dockerfile frontend knows.
const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Why a Dockerfile could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line the problem starts on.
    pub line: u32,
    pub message: String,
}

/// One instruction, continuation lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where the instruction starts.
    pub line: u32,
    /// Upper-case keyword: `RUN`, `COPY`, …
    pub keyword: String,
    /// Everything after the keyword, continuations joined with a space.
    pub args: String,
    /// Heredoc bodies (`RUN <<EOF … EOF`), in order.
    pub heredocs: Vec<String>,
}

/// How a `RUN`/`CMD`/`ENTRYPOINT` command is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `CMD ["uvicorn", "app:app"]`: run directly, no shell.
    Exec(Vec<String>),
    /// `CMD uvicorn app:app`: run through `/bin/sh -c`.
    Shell(String),
}

impl Command {
    /// The command as one line of text, for matching and evidence.
    pub fn text(&self) -> String {
        match self {
            Command::Exec(parts) => parts.join(" "),
            Command::Shell(s) => s.clone(),
        }
    }
}

impl Instruction {
    /// The arguments as a command (exec form when they are a JSON array of
    /// strings, shell form otherwise, as Docker decides).
    pub fn command(&self) -> Command {
        let args = self.args.trim();
        if args.starts_with('[')
            && let Ok(parts) = serde_json::from_str::<Vec<String>>(args)
        {
            return Command::Exec(parts);
        }
        Command::Shell(args.to_string())
    }

    /// Leading `--flag=value` options (`COPY --from=build`, `RUN --mount=…`)
    /// and the remaining arguments.
    pub fn flags(&self) -> (Vec<(&str, &str)>, &str) {
        let mut rest = self.args.trim_start();
        let mut flags = Vec::new();
        while let Some(after) = rest.strip_prefix("--") {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            let (name, value) = after[..end].split_once('=').unwrap_or((&after[..end], ""));
            flags.push((name, value));
            rest = after[end..].trim_start();
        }
        (flags, rest)
    }
}

/// A build stage: a `FROM` and the instructions up to the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// Line of the `FROM`.
    pub line: u32,
    /// The `FROM` line's arguments as written, for evidence.
    pub from_text: String,
    /// The base image as written (may hold `$ARG` references).
    pub image: String,
    /// `AS name`, lower-cased as Docker compares them.
    pub name: Option<String>,
    pub instructions: Vec<Instruction>,
}

impl Stage {
    /// The last instruction with `keyword`.
    pub fn last(&self, keyword: &str) -> Option<&Instruction> {
        self.instructions.iter().rev().find(|i| i.keyword == keyword)
    }

    pub fn all<'s>(&'s self, keyword: &'s str) -> impl Iterator<Item = &'s Instruction> + 's {
        self.instructions.iter().filter(move |i| i.keyword == keyword)
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// `ARG`s before the first `FROM`: they parameterise `FROM` lines.
    pub global_args: Vec<Instruction>,
    /// At least one.
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    /// The stage that becomes the image (the last one).
    pub fn final_stage(&self) -> &Stage {
        self.stages.last().expect("a parsed Dockerfile has a stage")
    }

    /// The index of an earlier stage that `stage_index`'s `FROM` names.
    pub fn parent_stage(&self, stage_index: usize) -> Option<usize> {
        let image = self.stages[stage_index].image.to_ascii_lowercase();
        self.stages[..stage_index].iter().rposition(|s| s.name.as_deref() == Some(image.as_str()))
    }

    /// The last `keyword` instruction in effect in stage `idx`: its own, or
    /// the one of the earlier stage it is built `FROM` (CMD, USER and
    /// HEALTHCHECK carry over that way).
    pub fn inherited(&self, idx: usize, keyword: &str) -> Option<&Instruction> {
        let mut at = Some(idx);
        while let Some(i) = at {
            if let Some(inst) = self.stages[i].last(keyword) {
                return Some(inst);
            }
            at = self.parent_stage(i);
        }
        None
    }

    /// The image of a stage with `$ARG`/`${ARG}`/`${ARG:-default}` replaced
    /// by the defaults of the global `ARG`s; `None` when a reference has no
    /// default (the value comes from the build command line).
    pub fn resolved_image(&self, stage: &Stage) -> Option<String> {
        let mut defaults: HashMap<String, String> = HashMap::new();
        for arg in &self.global_args {
            for (k, v) in key_values(&arg.args) {
                if let Some(v) = v {
                    defaults.insert(k, v);
                }
            }
        }
        substitute(&stage.image, &defaults)
    }
}

/// Replaces variable references; `None` if one cannot be resolved.
fn substitute(text: &str, vars: &HashMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, default, consumed) = if let Some(inner) = after.strip_prefix('{') {
            let close = inner.find('}')?;
            let body = &inner[..close];
            let (name, default) = match body.split_once(":-").or_else(|| body.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (body, None),
            };
            (name, default, close + 2)
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            (&after[..end], None, end)
        };
        let value = vars.get(name).filter(|v| !v.is_empty()).map(String::as_str).or(default)?;
        out.push_str(value);
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Some(out)
}

/// `KEY=value KEY2="v 2"` (or the legacy `KEY value` form of `ENV`) as
/// pairs; `ARG NAME` without a default gives `None`.
pub fn key_values(args: &str) -> Vec<(String, Option<String>)> {
    let words = split_words(args);
    if words.len() >= 2 && !words[0].contains('=') {
        // Legacy `ENV KEY value with spaces`.
        let key = words[0].clone();
        let value = args.trim_start()[words[0].len()..].trim().trim_matches('"').to_string();
        return vec![(key, Some(value))];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// Splits on whitespace, honouring double and single quotes (which are removed).
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') => cur.extend(chars.next()),
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Parses a Dockerfile.
///
/// # Errors
/// An unknown instruction, an instruction other than `ARG` before the first
/// `FROM`, a `FROM` without an image or with stray words, an unterminated
/// heredoc, or a file with no `FROM` at all.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    // Docker ignores a UTF-8 byte order mark, which some Windows editors add.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut escape = '\\';
    let mut i = 0;
    // Parser directives (`# escape=\``) are only honoured at the very top.
    while i < lines.len() {
        let Some(body) = lines[i].trim().strip_prefix('#') else { break };
        let Some((key, value)) = body.split_once('=') else { break };
        let key = key.trim().to_ascii_lowercase();
        if !key.chars().all(|c| c.is_ascii_alphabetic()) {
            break;
        }
        if key == "escape" {
            escape = value.trim().chars().next().unwrap_or('\\');
        }
        i += 1;
    }
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    while i < lines.len() {
        let start = i;
        let trimmed = lines[i].trim();
        i += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut joined = String::new();
        let mut cur = trimmed.to_string();
        loop {
            let continued = cur.trim_end().ends_with(escape);
            if !continued {
                joined.push_str(&cur);
                break;
            }
            let t = cur.trim_end();
            joined.push_str(&t[..t.len() - escape.len_utf8()]);
            joined.push(' ');
            // Comment and blank lines inside a continuation are dropped, as Docker does.
            while i < lines.len() && (lines[i].trim().is_empty() || lines[i].trim_start().starts_with('#')) {
                i += 1;
            }
            if i >= lines.len() {
                break;
            }
            cur = lines[i].trim().to_string();
            i += 1;
        }
        let line = start as u32 + 1;
        let (word, args) = joined.split_once(char::is_whitespace).unwrap_or((&joined, ""));
        let keyword = word.to_ascii_uppercase();
        if !INSTRUCTIONS.contains(&keyword.as_str()) {
            return Err(ParseError { line, message: format!("unknown instruction `{word}`") });
        }
        let mut inst =
            Instruction { line, keyword: keyword.clone(), args: args.trim().to_string(), heredocs: Vec::new() };
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for marker in heredoc_markers(&inst.args) {
                let mut body = String::new();
                loop {
                    let Some(l) = lines.get(i) else {
                        return Err(ParseError { line, message: format!("heredoc `{marker}` is never closed") });
                    };
                    i += 1;
                    if l.trim() == marker {
                        break;
                    }
                    body.push_str(l);
                    body.push('\n');
                }
                inst.heredocs.push(body);
            }
        }
        if keyword == "FROM" {
            stages.push(parse_from(&inst)?);
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push(inst);
        } else if keyword == "ARG" {
            global_args.push(inst);
        } else {
            return Err(ParseError { line, message: format!("`{keyword}` before the first FROM") });
        }
    }
    if stages.is_empty() {
        return Err(ParseError { line: 1, message: "no FROM instruction".into() });
    }
    Ok(Dockerfile { global_args, stages })
}

fn parse_from(inst: &Instruction) -> Result<Stage, ParseError> {
    let (_, rest) = inst.flags();
    let words: Vec<&str> = rest.split_whitespace().collect();
    let err = |message: &str| ParseError { line: inst.line, message: message.to_string() };
    let (image, name) = match words.as_slice() {
        [] => return Err(err("FROM needs an image")),
        [image] => (*image, None),
        [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => (*image, Some(name.to_ascii_lowercase())),
        _ => return Err(err("FROM takes an image and optionally `AS <name>`")),
    };
    Ok(Stage {
        line: inst.line,
        from_text: format!("FROM {}", inst.args),
        image: image.to_string(),
        name,
        instructions: Vec::new(),
    })
}

/// The terminators of the heredocs an instruction opens: `<<EOF`,
/// `<<-EOF`, `<<"EOF"`.
fn heredoc_markers(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = args;
    while let Some(pos) = rest.find("<<") {
        let after = rest[pos + 2..].trim_start_matches('-');
        let unquoted = after.trim_start_matches(['"', '\'']);
        let end = unquoted.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(unquoted.len());
        if end > 0 && unquoted[..end].chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            out.push(unquoted[..end].to_string());
        }
        rest = &unquoted[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_continuations_and_comments() {
        let d = parse(
            "# syntax=docker/dockerfile:1\nARG PY=3.12\nFROM python:${PY}-slim AS Build\nRUN pip install \\\n  # a comment\n  fastapi\n\nFROM build\nUSER app\nCMD [\"uvicorn\", \"app:app\"]\n",
        )
        .unwrap();
        assert_eq!(d.stages.len(), 2);
        assert_eq!(d.stages[0].name.as_deref(), Some("build"));
        assert_eq!(d.resolved_image(&d.stages[0]).as_deref(), Some("python:3.12-slim"));
        assert_eq!(d.stages[0].instructions[0].args, "pip install  fastapi");
        assert_eq!(d.stages[1].line, 8);
        assert_eq!(d.parent_stage(1), Some(0));
        let cmd = d.final_stage().last("CMD").unwrap();
        assert_eq!(cmd.line, 10);
        assert_eq!(cmd.command(), Command::Exec(vec!["uvicorn".into(), "app:app".into()]));
    }

    #[test]
    fn escape_directive_and_heredoc() {
        let d = parse("# escape=`\nFROM mcr.microsoft.com/windows AS w\nRUN dir `\n  c:\\\nRUN <<EOF\nFROM not-a-stage\nEOF\nCMD echo hi\n")
            .unwrap();
        let s = d.final_stage();
        assert_eq!(s.instructions[0].args, "dir  c:\\");
        assert_eq!(s.instructions[1].heredocs, vec!["FROM not-a-stage\n".to_string()]);
        assert_eq!(s.instructions[2].command(), Command::Shell("echo hi".into()));
    }

    #[test]
    fn unresolvable_args_and_key_values() {
        let d = parse("ARG BASE\nFROM $BASE\n").unwrap();
        assert_eq!(d.resolved_image(d.final_stage()), None);
        assert_eq!(
            key_values("A=1 B=\"two words\" C"),
            vec![("A".into(), Some("1".into())), ("B".into(), Some("two words".into())), ("C".into(), None)]
        );
        assert_eq!(key_values("TOKEN abc def"), vec![("TOKEN".into(), Some("abc def".into()))]);
    }

    #[test]
    fn crlf_and_byte_order_mark() {
        let d = parse("\u{feff}FROM alpine:3.20\r\nRUN apk add \\\r\n  curl\r\nUSER nobody\r\n").unwrap();
        assert_eq!(d.final_stage().instructions[0].args, "apk add  curl");
        assert_eq!(d.final_stage().last("USER").unwrap().line, 4);
    }

    #[test]
    fn errors_carry_a_line() {
        assert_eq!(parse("FROM a\nRUNN x\n").unwrap_err().line, 2);
        assert_eq!(parse("RUN x\nFROM a\n").unwrap_err().line, 1);
        assert_eq!(parse("FROM a b c d\n").unwrap_err().line, 1);
        assert!(parse("# only a comment\n").is_err());
        assert_eq!(parse("FROM a\nRUN <<EOF\necho\n").unwrap_err().line, 2);
    }
}
