//! Bucket configuration kept by another S3 stand-in (`--bucket-config-endpoint`, the local stack's moto). s3s-fs keeps
//! objects only: it has no bucket policies, ACLs, ownership controls, versioning, Object Lock or tagging. With an
//! endpoint given, a bucket-level request for one of those sub-resources (`?policy`, `?acl`, ...) is passed to it
//! unchanged (moto does not check signatures) and its answer returned unchanged, so a policy is stored and read back
//! as the document it is, by the same moto the rest of the local stack uses; and each bucket s3s-fs creates or
//! deletes is created or deleted there too. Object-level sub-resources (`?retention`, `?legal-hold`, an object's
//! `?tagging` or `?acl`) are not passed: the objects are not there; s3s-fs answers them `NotImplemented`.

use bytes::Bytes;
use http::{Extensions, HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use s3s::route::S3Route;
use s3s::{Body, S3Request, S3Response, S3Result, s3_error};

/// Bucket sub-resources (query parameters of a request on `/<bucket>`) that the configuration endpoint answers.
const BUCKET_CONFIG: &[&str] = &[
    "policy",
    "policyStatus",
    "acl",
    "ownershipControls",
    "versioning",
    "object-lock",
    "tagging",
    "lifecycle",
    "encryption",
    "publicAccessBlock",
    "notification",
    "cors",
];

/// Largest request body passed on, bytes (a policy is at most 20 KB).
const MAX_BODY: usize = 1024 * 1024;

/// The other stand-in, reached with plain HTTP/1.1.
#[derive(Clone)]
pub struct ConfigEndpoint {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl ConfigEndpoint {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `method` `path_and_query` with `headers` and `body`; the answer's status, headers and body.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<http::Response<Bytes>, String> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.base));
        for (name, value) in headers {
            if name != http::header::HOST {
                req = req.header(name, value);
            }
        }
        let req = req.body(Full::new(body)).map_err(|e| e.to_string())?;
        let resp = self.client.request(req).await.map_err(|e| e.to_string())?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }

    /// Creates (`PUT`) or deletes (`DELETE`) `bucket` there too; its refusal (e.g. the bucket exists) is not an error.
    pub async fn mirror_bucket(&self, method: Method, bucket: &str) -> Result<(), String> {
        let resp = self
            .send(
                method.clone(),
                &format!("/{bucket}"),
                &HeaderMap::new(),
                Bytes::new(),
            )
            .await?;
        if resp.status().is_server_error() {
            return Err(format!("{method} /{bucket}: {}", resp.status()));
        }
        Ok(())
    }
}

/// Whether `uri` is a request on a bucket (`/<bucket>`, path style) for a sub-resource of [`BUCKET_CONFIG`].
fn is_bucket_config(uri: &Uri) -> bool {
    let path = uri.path().trim_matches('/');
    !path.is_empty()
        && !path.contains('/')
        && uri.query().is_some_and(|q| {
            q.split('&')
                .map(|kv| kv.split('=').next().unwrap_or_default())
                .any(|k| BUCKET_CONFIG.contains(&k))
        })
}

#[async_trait::async_trait]
impl S3Route for ConfigEndpoint {
    fn is_match(&self, _: &Method, uri: &Uri, _: &HeaderMap, _: &mut Extensions) -> bool {
        is_bucket_config(uri)
    }

    async fn check_access(&self, req: &mut S3Request<Body>) -> S3Result<()> {
        // Signed requests only, as for every other operation (s3s has checked the signature).
        if req.credentials.is_some() {
            Ok(())
        } else {
            Err(s3_error!(AccessDenied, "Signed requests only"))
        }
    }

    async fn call(&self, mut req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        let body = req
            .input
            .store_all_limited(MAX_BODY)
            .await
            .map_err(|e| s3_error!(InvalidRequest, "reading the body: {e}"))?;
        let path_and_query = req
            .uri
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str)
            .to_string();
        let resp = self
            .send(req.method, &path_and_query, &req.headers, body)
            .await
            .map_err(|e| s3_error!(ServiceUnavailable, "bucket configuration endpoint: {e}"))?;
        let (parts, body) = resp.into_parts();
        let mut out = S3Response::new(Body::from(body));
        out.status = Some(parts.status);
        out.headers = parts.headers;
        out.headers.remove(http::header::CONTENT_LENGTH);
        out.headers.remove(http::header::TRANSFER_ENCODING);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bucket_level_configuration_is_passed_on() {
        for yes in [
            "/b?policy",
            "/b/?policy=",
            "/b?acl",
            "/b?x-id=GetBucketPolicy&policy",
        ] {
            assert!(is_bucket_config(&yes.parse().unwrap()), "{yes}");
        }
        for no in [
            "/b",
            "/b?list-type=2&prefix=p",
            "/b/k?retention",
            "/b/k?acl",
            "/?policy",
            "/b?location",
        ] {
            assert!(!is_bucket_config(&no.parse().unwrap()), "{no}");
        }
    }
}
