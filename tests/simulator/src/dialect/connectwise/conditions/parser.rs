//! Recursive-descent parser of the `conditions` language.
//!
//! ```text
//! expr       := and ( OR and )*
//! and        := unary ( AND unary )*
//! unary      := NOT unary | '(' expr ')' | comparison
//! comparison := FIELD ( '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=' ) value
//!             | FIELD [NOT] ( LIKE | CONTAINS ) string
//!             | FIELD [NOT] IN '(' value ( ',' value )* ')'
//! value      := string | number | [date-time] | true | false | null
//! ```
//! Keywords are case-insensitive; `and` binds tighter than `or`.

use super::lexer::{Sym, Tok, Token, tokenize};
use super::{Comparison, Expr, FieldPath, Literal, Op, Operand, SyntaxError};

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "like", "contains", "in", "true", "false", "null",
];

/// Parses a whole condition string; `None` when it is blank.
pub(crate) fn parse(input: &str) -> Result<Option<Expr>, SyntaxError> {
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut p = Parser { tokens, next: 0 };
    let expr = p.expr()?;
    if let Some(t) = p.peek() {
        return Err(SyntaxError::new(format!(
            "unexpected {} at position {}; expected 'and', 'or' or the end",
            t.tok.describe(),
            t.pos
        )));
    }
    Ok(Some(expr))
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.next).cloned();
        self.next += 1;
        t
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.peek().is_some_and(|t| t.tok.is_keyword(kw)) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    /// The end of input, described for "expected X but found ..." messages.
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("{} at position {}", t.tok.describe(), t.pos),
            None => "the end".into(),
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = vec![self.and()?];
        while self.eat_keyword("or") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = vec![self.unary()?];
        while self.eat_keyword("and") {
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.eat_keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek().is_some_and(|t| t.tok == Tok::LParen) {
            let open = self.bump().map_or(0, |t| t.pos);
            let inner = self.expr()?;
            return match self.bump() {
                Some(Token {
                    tok: Tok::RParen, ..
                }) => Ok(inner),
                _ => {
                    self.next -= 1;
                    Err(SyntaxError::new(format!(
                        "expected ')' to close the '(' at position {open} but found {}",
                        self.found()
                    )))
                }
            };
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let field = match self.peek() {
            Some(Token {
                tok: Tok::Word(w),
                pos,
            }) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)) => {
                let (w, pos) = (w.clone(), *pos);
                self.next += 1;
                FieldPath::parse(&w).ok_or_else(|| {
                    SyntaxError::new(format!("'{w}' at position {pos} is not a valid field name"))
                })?
            }
            _ => {
                return Err(SyntaxError::new(format!(
                    "expected a field name but found {}",
                    self.found()
                )));
            }
        };
        let op = self.operator(&field)?;
        let operand = match op {
            Op::In | Op::NotIn => Operand::List(self.list(&field)?),
            _ => Operand::One(self.value(&field, op)?),
        };
        Ok(Expr::Cmp(Comparison { field, op, operand }))
    }

    fn operator(&mut self, field: &FieldPath) -> Result<Op, SyntaxError> {
        let negated = self.eat_keyword("not");
        let op = match self.peek().map(|t| &t.tok) {
            Some(Tok::Sym(sym)) if !negated => match sym {
                Sym::Eq => Op::Eq,
                Sym::Ne => Op::Ne,
                Sym::Lt => Op::Lt,
                Sym::Le => Op::Le,
                Sym::Gt => Op::Gt,
                Sym::Ge => Op::Ge,
            },
            Some(t) if t.is_keyword("like") => {
                if negated {
                    Op::NotLike
                } else {
                    Op::Like
                }
            }
            Some(t) if t.is_keyword("contains") => {
                if negated {
                    Op::NotContains
                } else {
                    Op::Contains
                }
            }
            Some(t) if t.is_keyword("in") => {
                if negated {
                    Op::NotIn
                } else {
                    Op::In
                }
            }
            _ => {
                let expected = if negated {
                    "'like', 'contains' or 'in'"
                } else {
                    "a comparison operator"
                };
                return Err(SyntaxError::new(format!(
                    "expected {expected} after '{}' but found {}",
                    field.text,
                    self.found()
                )));
            }
        };
        self.next += 1;
        Ok(op)
    }

    fn value(&mut self, field: &FieldPath, op: Op) -> Result<Literal, SyntaxError> {
        let pos = self.peek().map_or(0, |t| t.pos);
        let literal = match self.peek().map(|t| &t.tok) {
            Some(Tok::Str(s)) => Literal::Str(s.clone()),
            Some(Tok::Num(n, _)) => Literal::Num(*n),
            Some(Tok::Date(d, _)) => Literal::Date(*d),
            Some(t) if t.is_keyword("true") => Literal::Bool(true),
            Some(t) if t.is_keyword("false") => Literal::Bool(false),
            Some(t) if t.is_keyword("null") => Literal::Null,
            Some(Tok::Word(w)) => {
                return Err(SyntaxError::new(format!(
                    "expected a value after '{} {}' but found '{w}' at position {pos}; strings take double quotes",
                    field.text,
                    op.text()
                )));
            }
            _ => {
                return Err(SyntaxError::new(format!(
                    "expected a value after '{} {}' but found {}",
                    field.text,
                    op.text(),
                    self.found()
                )));
            }
        };
        self.next += 1;
        let fits = match (&literal, op) {
            (Literal::Str(_), _) => true,
            (_, Op::Like | Op::NotLike | Op::Contains | Op::NotContains) => false,
            (Literal::Null | Literal::Bool(_), Op::Eq | Op::Ne | Op::In | Op::NotIn) => true,
            (Literal::Null | Literal::Bool(_), _) => false,
            _ => true,
        };
        if !fits {
            let needs = match op {
                Op::Like | Op::NotLike | Op::Contains | Op::NotContains => "a quoted string",
                _ => "a string, number or date-time",
            };
            return Err(SyntaxError::new(format!(
                "'{}' needs {needs} but found {} at position {pos}",
                op.text(),
                literal.describe()
            )));
        }
        Ok(literal)
    }

    fn list(&mut self, field: &FieldPath) -> Result<Vec<Literal>, SyntaxError> {
        if !self.peek().is_some_and(|t| t.tok == Tok::LParen) {
            return Err(SyntaxError::new(format!(
                "expected '(' after '{} in' but found {}",
                field.text,
                self.found()
            )));
        }
        self.next += 1;
        let mut values = vec![self.value(field, Op::In)?];
        loop {
            match self.bump().map(|t| t.tok) {
                Some(Tok::Comma) => values.push(self.value(field, Op::In)?),
                Some(Tok::RParen) => return Ok(values),
                _ => {
                    self.next -= 1;
                    return Err(SyntaxError::new(format!(
                        "expected ',' or ')' in the list of '{} in' but found {}",
                        field.text,
                        self.found()
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(input: &str) -> Expr {
        parse(input).unwrap().unwrap()
    }

    fn err(input: &str) -> String {
        parse(input).unwrap_err().message
    }

    fn cmp(field: &str, op: Op, value: Literal) -> Expr {
        Expr::Cmp(Comparison {
            field: FieldPath::parse(field).unwrap(),
            op,
            operand: Operand::One(value),
        })
    }

    #[test]
    fn blank_input_is_no_condition() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("   ").unwrap(), None);
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let a = cmp("a", Op::Eq, Literal::Num(1.0));
        let b = cmp("b", Op::Eq, Literal::Num(2.0));
        let c = cmp("c", Op::Eq, Literal::Num(3.0));
        assert_eq!(
            p("a = 1 or b = 2 AND c = 3"),
            Expr::Or(vec![a.clone(), Expr::And(vec![b.clone(), c.clone()])])
        );
        assert_eq!(
            p("(a = 1 Or b = 2) and c = 3"),
            Expr::And(vec![Expr::Or(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(
            p("not a = 1 and b = 2"),
            Expr::And(vec![Expr::Not(Box::new(a)), b])
        );
    }

    #[test]
    fn reads_every_operator() {
        assert_eq!(
            p(r#"name like "Ac*""#),
            cmp("name", Op::Like, Literal::Str("Ac*".into()))
        );
        assert_eq!(
            p(r#"name NOT LIKE "Ac*""#),
            cmp("name", Op::NotLike, Literal::Str("Ac*".into()))
        );
        assert_eq!(
            p(r#"name contains "x""#),
            cmp("name", Op::Contains, Literal::Str("x".into()))
        );
        assert_eq!(
            p(r#"name not contains "x""#),
            cmp("name", Op::NotContains, Literal::Str("x".into()))
        );
        assert_eq!(p("flag = TRUE"), cmp("flag", Op::Eq, Literal::Bool(true)));
        assert_eq!(p("contact != null"), cmp("contact", Op::Ne, Literal::Null));
        assert_eq!(p("id >= 10"), cmp("id", Op::Ge, Literal::Num(10.0)));
        assert_eq!(
            p(r#"id in (1, 2,"x")"#),
            Expr::Cmp(Comparison {
                field: FieldPath::parse("id").unwrap(),
                op: Op::In,
                operand: Operand::List(vec![
                    Literal::Num(1.0),
                    Literal::Num(2.0),
                    Literal::Str("x".into())
                ]),
            })
        );
        assert!(matches!(
            p("id not in (1)"),
            Expr::Cmp(Comparison { op: Op::NotIn, .. })
        ));
    }

    #[test]
    fn explains_syntax_errors() {
        assert_eq!(
            err("name = Acme"),
            "expected a value after 'name =' but found 'Acme' at position 8; strings take double quotes"
        );
        assert_eq!(
            err("name ="),
            "expected a value after 'name =' but found the end"
        );
        assert_eq!(
            err("name"),
            "expected a comparison operator after 'name' but found the end"
        );
        assert_eq!(
            err("name not = 1"),
            "expected 'like', 'contains' or 'in' after 'name' but found '=' at position 10"
        );
        assert_eq!(
            err("(a = 1"),
            "expected ')' to close the '(' at position 1 but found the end"
        );
        assert_eq!(
            err("a = 1 b = 2"),
            "unexpected 'b' at position 7; expected 'and', 'or' or the end"
        );
        assert_eq!(err("a = 1 and"), "expected a field name but found the end");
        assert_eq!(
            err("and = 1"),
            "expected a field name but found 'and' at position 1"
        );
        assert_eq!(
            err("name like 5"),
            "'like' needs a quoted string but found the number 5 at position 11"
        );
        assert_eq!(
            err("flag > true"),
            "'>' needs a string, number or date-time but found true at position 8"
        );
        assert_eq!(
            err("id in 1"),
            "expected '(' after 'id in' but found the number 1 at position 7"
        );
        assert_eq!(
            err("id in (1 2)"),
            "expected ',' or ')' in the list of 'id in' but found the number 2 at position 10"
        );
        assert_eq!(
            err("company//id = 1"),
            "'company//id' at position 1 is not a valid field name"
        );
    }
}
