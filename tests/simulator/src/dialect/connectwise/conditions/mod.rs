//! The ConnectWise `conditions` / `childConditions` query language: a tokenizer, a parser and an
//! evaluator over records.
//!
//! Semantics (documented in the README): string comparisons ignore case; `like` takes `*` as
//! its wildcard; a null field satisfies only `= null`; in `childConditions` a comparison holds
//! when any item of the collection satisfies it.

mod eval;
mod lexer;
mod parser;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) use eval::{Fields, Mode, Scalar, json_values, order_cmp};
pub(crate) use parser::parse;

/// A malformed condition string.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
}

impl SyntaxError {
    fn new(message: String) -> SyntaxError {
        SyntaxError { message }
    }
}

/// A condition that cannot be applied to a record (unknown field, type mismatch).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EvalError {
    pub(crate) message: String,
}

impl EvalError {
    pub(crate) fn new(message: String) -> EvalError {
        EvalError { message }
    }
}

/// Fields records answer without being rendered (classified once, when parsed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    Id,
    LastUpdated,
    CompanyId,
    Other,
}

/// A field path such as `company/id`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FieldPath {
    /// As written.
    pub(crate) text: String,
    /// Split at `/`.
    pub(crate) segments: Vec<String>,
    /// Whether it is one of the fields with a fast path.
    pub(crate) known: Known,
}

impl FieldPath {
    /// `None` when a segment is empty (`a//b`, `/a`, `a/`).
    pub(crate) fn parse(text: &str) -> Option<FieldPath> {
        let segments: Vec<String> = text.split('/').map(str::to_string).collect();
        if segments.iter().any(String::is_empty) {
            return None;
        }
        let mut path = FieldPath {
            text: text.to_string(),
            segments,
            known: Known::Other,
        };
        path.known = if path.is(&["id"]) {
            Known::Id
        } else if path.is(&["lastUpdated"]) || path.is(&["_info", "lastUpdated"]) {
            Known::LastUpdated
        } else if path.is(&["company", "id"]) {
            Known::CompanyId
        } else {
            Known::Other
        };
        Some(path)
    }

    /// True when the path is exactly `segments` (case-insensitive).
    pub(crate) fn is(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self
                .segments
                .iter()
                .zip(segments)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// A value written in a condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Date(OffsetDateTime),
}

impl Literal {
    fn describe(&self) -> String {
        match self {
            Literal::Null => "null".into(),
            Literal::Bool(b) => b.to_string(),
            Literal::Num(n) => format!("the number {n}"),
            Literal::Str(s) => format!("the string \"{s}\""),
            Literal::Date(d) => {
                format!("the date-time [{}]", d.format(&Rfc3339).unwrap_or_default())
            }
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    NotLike,
    Contains,
    NotContains,
    In,
    NotIn,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "like",
            Op::NotLike => "not like",
            Op::Contains => "contains",
            Op::NotContains => "not contains",
            Op::In => "in",
            Op::NotIn => "not in",
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operand {
    One(Literal),
    List(Vec<Literal>),
}

/// `field op operand`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Comparison {
    pub(crate) field: FieldPath,
    pub(crate) op: Op,
    pub(crate) operand: Operand,
}

/// A parsed condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Comparison),
}

impl Expr {
    /// True when some comparison is on the top-level field `name` (case-insensitive).
    pub(crate) fn mentions(&self, name: &str) -> bool {
        match self {
            Expr::And(terms) | Expr::Or(terms) => terms.iter().any(|t| t.mentions(name)),
            Expr::Not(inner) => inner.mentions(name),
            Expr::Cmp(c) => c.field.is(&[name]),
        }
    }

    /// Whether `record` satisfies the condition.
    pub(crate) fn eval(&self, record: &dyn Fields, mode: Mode) -> Result<bool, EvalError> {
        match self {
            Expr::And(terms) => {
                for t in terms {
                    if !t.eval(record, mode)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Expr::Or(terms) => {
                for t in terms {
                    if t.eval(record, mode)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Expr::Not(inner) => Ok(!inner.eval(record, mode)?),
            Expr::Cmp(c) => eval::comparison(c, record, mode),
        }
    }
}
