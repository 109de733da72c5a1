//! The bank workload (Jepsen's `bank`): [`ACCOUNTS`] accounts of [`INITIAL`] each; transfers
//! of 1–5 between two random accounts, each one transaction (refused when the source would go
//! negative), and reads of every account at once; then a final read. Checked with the bank
//! checker: every read sums to the total and has no negative balance.
//!
//! An account that was never written holds [`INITIAL`]: targets need no setup step, and a read
//! returns the balances as a list, account 0 first.

use checkers::bank::BankChecker;
use checkers::Checker;
use history::{Key, Rng};
use serde_json::{json, Value};

use crate::client::Invocation;
use crate::generator::{BoxGen, Context, Next};
use crate::workload::Workload;

/// How many accounts.
pub const ACCOUNTS: u64 = 5;
/// Each account's balance before any transfer.
pub const INITIAL: i64 = 20;

/// A transfer's argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// The account debited.
    pub from: u64,
    /// The account credited.
    pub to: u64,
    /// How much.
    pub amount: i64,
}

impl Transfer {
    /// Reads `{"from": …, "to": …, "amount": …}`.
    pub fn parse(value: &Value) -> Option<Transfer> {
        let (from, to, amount) = (value["from"].as_u64()?, value["to"].as_u64()?, value["amount"].as_i64()?);
        (from < ACCOUNTS && to < ACCOUNTS && from != to && amount > 0).then_some(Transfer { from, to, amount })
    }

    /// The balances after it, or `None` when the source cannot pay.
    pub fn apply(&self, balances: &[i64]) -> Option<Vec<i64>> {
        let mut next = balances.to_vec();
        let (from, to) = (self.from as usize, self.to as usize);
        if next.get(from)? < &self.amount || to >= next.len() {
            return None;
        }
        next[from] -= self.amount;
        next[to] += self.amount;
        Some(next)
    }
}

/// Transfers and reads, half each.
pub struct Bank;

impl Workload for Bank {
    fn name(&self) -> &'static str {
        "bank"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["transfer", "read"]
    }

    fn generator(&self) -> BoxGen {
        Box::new(|_: &Context, rng: &mut Rng| {
            if rng.below(2) == 0 {
                return Next::Op(Invocation { f: "read".into(), key: None, value: Value::Null });
            }
            let from = rng.below(ACCOUNTS);
            let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
            let amount = 1 + rng.below(5);
            Next::Op(Invocation { f: "transfer".into(), key: None, value: json!({ "from": from, "to": to, "amount": amount }) })
        })
    }

    fn final_generator(&self, _keys: &[Key]) -> Option<BoxGen> {
        Some(crate::generator::one_final_read())
    }

    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        vec![Box::new(BankChecker { accounts: ACCOUNTS as usize, total: INITIAL * ACCOUNTS as i64 }), Box::new(checkers::stats::Stats)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_between_two_accounts_and_keep_the_total() {
        let mut gen = Bank.generator();
        let mut rng = Rng::new(3);
        let ctx = Context { elapsed: std::time::Duration::ZERO, worker: 0 };
        let mut balances = vec![INITIAL; ACCOUNTS as usize];
        let mut transfers = 0;
        for _ in 0..1000 {
            let Next::Op(op) = gen.next(&ctx, &mut rng) else { panic!() };
            if op.f == "transfer" {
                let t = Transfer::parse(&op.value).expect("a valid transfer");
                if let Some(next) = t.apply(&balances) {
                    balances = next;
                    transfers += 1;
                }
            }
        }
        assert!(transfers > 300);
        assert_eq!(balances.iter().sum::<i64>(), INITIAL * ACCOUNTS as i64);
        assert!(balances.iter().all(|b| *b >= 0));
        assert_eq!(Transfer { from: 0, to: 1, amount: 30 }.apply(&balances.iter().map(|_| 20).collect::<Vec<_>>()), None);
    }
}
