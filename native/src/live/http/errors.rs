//! Error answers: every one is JSON, `{"error": "…"}`, with a status that
//! says what went wrong; and `StrictJson`, whose rejections are such answers.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Duration;

use super::BODY_LIMIT;

/// An API error: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub(super) fn internal(message: String) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
    pub(super) fn backend(e: lvslab_engine::ipvs::IpvsError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read IPVS: {e}"),
        )
    }
    /// The same error as a prepared [`Answer`].
    pub(super) fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            body: Bytes::from(
                serde_json::json!({ "error": self.message })
                    .to_string()
                    .into_bytes(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lvslab\""),
            );
        }
        r
    }
}

/// A JSON answer serialised once and sent as is to every client that
/// asks within the period (cloning `Bytes` copies no data).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Answer {
    /// `v` as a 200 answer (a 500 one if it cannot be serialised).
    pub fn json<T: serde::Serialize>(v: &T) -> Answer {
        match serde_json::to_vec(v) {
            Ok(b) => Answer {
                status: StatusCode::OK,
                body: Bytes::from(b),
            },
            Err(e) => ApiError::internal(format!("cannot serialise the answer: {e}")).answer(),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body,
        )
            .into_response()
    }
}

/// How long a request body may take to arrive, set per request by the
/// guard (a slow body otherwise holds a connection and its handler).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

/// `Json<T>` whose rejections are JSON errors: 400 malformed JSON, 415 not
/// `application/json`, 413 too large, 422 wrong types or unknown fields,
/// 408 a body that did not arrive in time.
pub struct StrictJson<T>(pub T);

impl<T, S> FromRequest<S> for StrictJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let deadline = req
            .extensions()
            .get::<BodyDeadline>()
            .map_or(Duration::from_secs(10), |d| d.0);
        match tokio::time::timeout(deadline, Json::<T>::from_request(req, state)).await {
            Ok(Ok(Json(v))) => Ok(StrictJson(v)),
            Ok(Err(rej)) => Err(json_rejection(rej)),
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s",
                    deadline.as_secs_f64()
                ),
            )),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let what = match &rej {
        JsonRejection::JsonDataError(_) => "the request does not match the API",
        JsonRejection::JsonSyntaxError(_) => "the request body is not valid JSON",
        JsonRejection::MissingJsonContentType(_) => {
            "the request needs `Content-Type: application/json`"
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError::new(
                status,
                format!("the request body is larger than the limit of {BODY_LIMIT} bytes"),
            )
        }
        _ => "the request body could not be read",
    };
    ApiError::new(
        status,
        format!("{what}: {}", crate::text::shorten(&rej.body_text(), 300)),
    )
}
