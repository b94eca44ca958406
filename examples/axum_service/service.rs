//! The service: an `axum::Router` over an `AsyncEngine`, its table and its handlers. Shared
//! with `tests/axum_service.rs`, which serves it on every backend.
//!
//! - `GET /accounts` — every account, by id;
//! - `GET /accounts/{id}` — one account, 404 when there is none;
//! - `POST /accounts` `{"owner": "ed", "balance": 100}` — a new account (201), through an
//!   `AsyncSession` (its key filled in by the flush), 409 when the owner has one already;
//! - `POST /transfers` `{"from": 1, "to": 2, "amount": 30}` — one transaction: the debit
//!   (only from a balance that covers it), then the credit; rolled back whole when either
//!   finds no row (409 for too little money, 404 for an unknown account).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use quarry::asyncio::{AsyncEngine, AsyncMetaDataDdl, AsyncSession};
use quarry::prelude::*;
use serde::{Deserialize, Serialize};

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[table(name = "svc_accounts", metadata = META)]
pub struct Account {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50, unique)]
    pub owner: String,
    pub balance: i64,
}

/// The body of `POST /accounts`.
#[derive(Debug, Deserialize, Serialize)]
pub struct NewAccount {
    pub owner: String,
    #[serde(default)]
    pub balance: i64,
}

/// The body of `POST /transfers`.
#[derive(Debug, Deserialize, Serialize)]
pub struct Transfer {
    pub from: i64,
    pub to: i64,
    pub amount: i64,
}

/// (Re)create the service's table.
pub async fn create_tables(engine: &AsyncEngine) -> quarry::Result<()> {
    META.drop_all_async(engine).await?;
    META.create_all_async(engine).await
}

/// The service's routes over `engine` (cheap to clone: the handlers share its pool).
pub fn router(engine: AsyncEngine) -> Router {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{id}", get(show))
        .route("/transfers", post(transfer))
        .with_state(engine)
}

/// What a handler answers when it fails: a status and a message, as JSON.
pub struct ApiError(StatusCode, String);

impl From<quarry::Error> for ApiError {
    fn from(e: quarry::Error) -> Self {
        let status = match e.as_database().map(|d| d.kind()) {
            Some(quarry::DatabaseErrorKind::UniqueViolation) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.1 }));
        (self.0, body).into_response()
    }
}

async fn list(State(engine): State<AsyncEngine>) -> Result<Json<Vec<Account>>, ApiError> {
    let accounts = engine
        .execute(select!(Account ORDER BY Account::id))
        .await?
        .all();
    Ok(Json(accounts))
}

async fn show(
    State(engine): State<AsyncEngine>,
    Path(id): Path<i64>,
) -> Result<Json<Account>, ApiError> {
    engine
        .execute(select!(Account WHERE Account::id == id))
        .await?
        .first()
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no account {id}")))
}

async fn create(
    State(engine): State<AsyncEngine>,
    Json(new): Json<NewAccount>,
) -> Result<(StatusCode, Json<Account>), ApiError> {
    let account = Account {
        id: 0,
        owner: new.owner,
        balance: new.balance,
    };
    let mut session = AsyncSession::new(&engine);
    let added = session.add(account.clone());
    session.commit().await?;
    let id = added
        .id()
        .ok_or_else(|| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "no key".into()))?;
    Ok((StatusCode::CREATED, Json(Account { id, ..account })))
}

async fn transfer(
    State(engine): State<AsyncEngine>,
    Json(t): Json<Transfer>,
) -> Result<Json<Vec<Account>>, ApiError> {
    if t.amount <= 0 || t.from == t.to {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a transfer moves a positive amount between two accounts".into(),
        ));
    }
    let mut conn = engine.connect().await?;
    let mut tx = conn.begin().await?;
    let debited = tx
        .execute(update!(Account SET balance = Account::balance - t.amount
            WHERE Account::id == t.from && Account::balance >= t.amount))
        .await?
        .rowcount();
    if debited == 0 {
        tx.rollback().await?;
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!(
                "account {} does not exist or has less than {}",
                t.from, t.amount
            ),
        ));
    }
    let credited = tx
        .execute(update!(Account SET balance = Account::balance + t.amount
            WHERE Account::id == t.to))
        .await?
        .rowcount();
    if credited == 0 {
        // The debit goes with it.
        tx.rollback().await?;
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no account {}", t.to),
        ));
    }
    let both = tx
        .execute(
            select!(Account WHERE Account::id == t.from || Account::id == t.to
            ORDER BY Account::id),
        )
        .await?
        .all();
    tx.commit().await?;
    Ok(Json(both))
}
