//! Paging through list APIs as a stream, so a command that reads 100,000 objects holds one page
//! at a time (`cargo bench -p soar-integration-kit --bench paging` prints the peak memory).
//!
//! The three ways Microsoft APIs page ([`Paging`]): OData's `@odata.nextLink` (Graph,
//! Defender, Sentinel), ARM's `nextLink`, and `$top`/`$skip` (APIs without links: the next page
//! is the same request with `$skip` advanced, and a page shorter than `$top` is the last).
//! Next links go through [`Api::send`], which accepts them only on the API's own origin over
//! https, so a hostile `nextLink` cannot take the token elsewhere.

use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use serde_json::Value;
use soar_core::Error;
use soar_protocol::IntegrationContext;

use crate::api::{Api, Request};

/// How a list API says where the next page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `@odata.nextLink`: the next page's absolute URL.
    ODataNextLink,
    /// ARM's `nextLink`.
    ArmNextLink,
    /// `$top`/`$skip` with `top` items a page.
    TopSkip {
        /// The page size (sent as `$top`).
        top: usize,
    },
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page's `value` items.
    pub items: Vec<Value>,
    /// Where the next page is (the link, or for `$top`/`$skip` nothing), when there is one.
    pub next_link: Option<String>,
}

enum State<'a> {
    Next(&'a mut IntegrationContext, Request, usize),
    Done,
}

fn link_key(paging: Paging) -> Option<&'static str> {
    match paging {
        Paging::ODataNextLink => Some("@odata.nextLink"),
        Paging::ArmNextLink => Some("nextLink"),
        Paging::TopSkip { .. } => None,
    }
}

fn with_skip(mut req: Request, top: usize, skip: usize) -> Request {
    req.query.retain(|(k, _)| k != "$top" && k != "$skip");
    req.query.push(("$top".to_owned(), top.to_string()));
    req.query.push(("$skip".to_owned(), skip.to_string()));
    req
}

/// The pages of the list `first` starts, fetched one at a time as the stream is read.
pub fn pages<'a>(
    api: &'a dyn Api,
    ctx: &'a mut IntegrationContext,
    first: Request,
    paging: Paging,
) -> impl Stream<Item = Result<Page, Error>> + Send + 'a {
    let first = match paging {
        Paging::TopSkip { top } => with_skip(first, top, 0),
        _ => first,
    };
    stream::unfold(State::Next(ctx, first, 0), move |state| async move {
        let State::Next(ctx, req, seen) = state else { return None };
        let body = match api.json(ctx, req.clone()).await {
            Ok(body) => body,
            Err(e) => return Some((Err(e), State::Done)),
        };
        let (items, next_link) = split_page(body, paging);
        let next = match paging {
            Paging::TopSkip { top } if items.len() >= top && top > 0 => {
                Some(with_skip(req, top, seen + items.len()))
            }
            Paging::TopSkip { .. } => None,
            _ => next_link.clone().map(Request::get),
        };
        let seen = seen + items.len();
        let state = match next {
            Some(r) => State::Next(ctx, r, seen),
            None => State::Done,
        };
        Some((Ok(Page { items, next_link }), state))
    })
}

/// The items of every page, one at a time.
pub fn items<'a>(
    api: &'a dyn Api,
    ctx: &'a mut IntegrationContext,
    first: Request,
    paging: Paging,
) -> impl Stream<Item = Result<Value, Error>> + Send + 'a {
    pages(api, ctx, first, paging).map_ok(|page| stream::iter(page.items.into_iter().map(Ok))).try_flatten()
}

/// At most `limit` items of the list (every item with `None`), stopping the requests as soon
/// as enough have arrived.
pub async fn collect(
    api: &dyn Api,
    ctx: &mut IntegrationContext,
    first: Request,
    paging: Paging,
    limit: Option<usize>,
) -> Result<Vec<Value>, Error> {
    let all = items(api, ctx, first, paging);
    match limit {
        Some(n) => all.take(n).try_collect().await,
        None => all.try_collect().await,
    }
}

/// A reply's `value` list and next link; an answer without `value` is one item.
fn split_page(body: Value, paging: Paging) -> (Vec<Value>, Option<String>) {
    let Value::Object(mut obj) = body else {
        return (if body.is_null() { Vec::new() } else { vec![body] }, None);
    };
    let next = link_key(paging).and_then(|k| obj.remove(k)).and_then(|v| match v {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    });
    let items = match obj.remove("value") {
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
        None => vec![Value::Object(obj)],
    };
    (items, next)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::FakeApi;

    const BASE: &str = "https://graph.microsoft.com/v1.0/";

    /// Three pages of two, linked by `key`.
    fn linked(key: &str) -> FakeApi {
        let api = FakeApi::new(BASE);
        api.on_get("users", json!({"value": [{"id": 1}, {"id": 2}], key: format!("{BASE}users?p=2")}));
        api.on_get(
            &format!("{BASE}users?p=2"),
            json!({"value": [{"id": 3}, {"id": 4}], key: format!("{BASE}users?p=3")}),
        );
        api.on_get(&format!("{BASE}users?p=3"), json!({"value": [{"id": 5}]}));
        api
    }

    fn ids(items: &[Value]) -> Vec<i64> {
        items.iter().filter_map(|v| v["id"].as_i64()).collect()
    }

    /// (paging, limit, ids read, requests made): every link is followed, a limit stops the
    /// requests early.
    #[tokio::test]
    async fn links_are_followed_until_the_last_page_or_the_limit() {
        let cases = [
            (Paging::ODataNextLink, "@odata.nextLink", None, vec![1, 2, 3, 4, 5], 3),
            (Paging::ArmNextLink, "nextLink", None, vec![1, 2, 3, 4, 5], 3),
            (Paging::ODataNextLink, "@odata.nextLink", Some(3), vec![1, 2, 3], 2),
            (Paging::ODataNextLink, "@odata.nextLink", Some(2), vec![1, 2], 1),
            // A link of the other kind is not followed.
            (Paging::ArmNextLink, "@odata.nextLink", None, vec![1, 2], 1),
        ];
        for (paging, key, limit, want, calls) in cases {
            let api = linked(key);
            let mut ctx = IntegrationContext::default();
            let got = collect(&api, &mut ctx, Request::get("users"), paging, limit).await.unwrap();
            assert_eq!(ids(&got), want, "{paging:?} {key} {limit:?}");
            assert_eq!(api.requests().len(), calls, "{paging:?} {key} {limit:?}");
        }
    }

    #[tokio::test]
    async fn top_and_skip_advance_until_a_short_page() {
        let api = FakeApi::new(BASE);
        api.on_get("machines?$top=2&$skip=0", json!({"value": [{"id": 1}, {"id": 2}]}));
        api.on_get("machines?$top=2&$skip=2", json!({"value": [{"id": 3}, {"id": 4}]}));
        api.on_get("machines?$top=2&$skip=4", json!({"value": [{"id": 5}]}));
        let mut ctx = IntegrationContext::default();
        let got = collect(&api, &mut ctx, Request::get("machines"), Paging::TopSkip { top: 2 }, None)
            .await
            .unwrap();
        assert_eq!(ids(&got), [1, 2, 3, 4, 5]);
        assert_eq!(api.requests().len(), 3);
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_with_it() {
        let api = FakeApi::new(BASE);
        api.on_get("users", json!({"value": [{"id": 1}], "@odata.nextLink": format!("{BASE}users?p=2")}));
        api.fail(&format!("{BASE}users?p=2"), 503, json!({"error": {"code": "Unavailable"}}));
        let mut ctx = IntegrationContext::default();
        let mut s = Box::pin(items(&api, &mut ctx, Request::get("users"), Paging::ODataNextLink));
        assert_eq!(s.next().await.and_then(Result::ok), Some(json!({"id": 1})));
        let err = s.next().await.and_then(Result::err).map(|e| e.api_status());
        assert_eq!(err, Some(Some(503)));
        assert!(s.next().await.is_none());
    }

    #[test]
    fn a_reply_without_value_is_one_item() {
        assert_eq!(split_page(json!({"id": 1}), Paging::ArmNextLink), (vec![json!({"id": 1})], None));
        assert_eq!(split_page(Value::Null, Paging::ArmNextLink), (vec![], None));
        let (items, next) = split_page(json!({"value": [], "nextLink": ""}), Paging::ArmNextLink);
        assert!(items.is_empty() && next.is_none());
    }
}
