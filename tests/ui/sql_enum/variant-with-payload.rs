use quarry::prelude::*;

#[derive(SqlEnum, Clone, Copy)]
enum LoanStatus {
    Active,
    Overdue(u32),
}

#[derive(Table)]
struct Loan {
    #[column(primary_key)]
    id: i64,
    status: LoanStatus,
}

fn main() {}
