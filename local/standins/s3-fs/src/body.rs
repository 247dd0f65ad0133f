//! GetObject's body in large reads. s3s-fs streams an object in 4 KiB reads (`ReaderStream::with_capacity(file,
//! 4096)` in its `get_object`), each a trip through tokio's blocking pool: about 4 s of CPU per GB here, which caps a
//! two-CPU machine near 250 MB/s. [`LargeReads`] passes every operation to s3s-fs unchanged and, for GetObject only,
//! serves the same bytes of the same file — the range s3s-fs checked, its status and headers (ETag, Content-Range,
//! Content-Length) kept — in [`READ_BYTES`] reads.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use http::Method;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput,
    CompleteMultipartUploadOutput, CopyObjectInput, CopyObjectOutput, CreateBucketInput,
    CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput, DeleteBucketInput,
    DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput, DeleteObjectsInput,
    DeleteObjectsOutput, GetBucketLocationInput, GetBucketLocationOutput, GetObjectInput,
    GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput,
    ListBucketsInput, ListBucketsOutput, ListObjectsInput, ListObjectsOutput, ListObjectsV2Input,
    ListObjectsV2Output, ListPartsInput, ListPartsOutput, PutObjectInput, PutObjectOutput,
    StreamingBlob, UploadPartCopyInput, UploadPartCopyOutput, UploadPartInput, UploadPartOutput,
};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::config::ConfigEndpoint;

/// Bytes per read of a GetObject body.
pub const READ_BYTES: usize = 1024 * 1024;

/// s3s-fs, with GetObject's body read in [`READ_BYTES`] reads.
pub struct LargeReads {
    fs: s3s_fs::FileSystem,
    /// Where bucket configuration lives, if anywhere (each bucket created or deleted here is there too).
    config: Option<ConfigEndpoint>,
    /// The directory s3s-fs serves (canonical, as s3s-fs holds it): bucket `b`, key `k` is the file `root/b/k`.
    root: PathBuf,
}

impl LargeReads {
    pub fn new(root: &std::path::Path, config: Option<ConfigEndpoint>) -> Result<Self, String> {
        let fs = s3s_fs::FileSystem::new(root).map_err(|e| format!("{e:?}"))?;
        let root = root
            .canonicalize()
            .map_err(|e| format!("{}: {e}", root.display()))?;
        Ok(Self { fs, config, root })
    }
}

impl LargeReads {
    /// Creates or deletes `bucket` at the configuration endpoint too, when there is one.
    async fn mirror(&self, method: Method, bucket: &str) -> S3Result<()> {
        match &self.config {
            Some(c) => c
                .mirror_bucket(method, bucket)
                .await
                .map_err(|e| s3_error!(ServiceUnavailable, "bucket configuration endpoint: {e}")),
            None => Ok(()),
        }
    }
}

/// Every operation s3s-fs implements, passed to it as is: its own future, in the form `async_trait` gives the
/// trait's methods (an `async fn` made by a macro inside an `#[async_trait]` impl is not rewritten).
macro_rules! pass {
    ($($op:ident($input:ty) -> $output:ty;)*) => {
        $(
            fn $op<'life0, 'async_trait>(
                &'life0 self,
                req: S3Request<$input>,
            ) -> Pin<Box<dyn Future<Output = S3Result<S3Response<$output>>> + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                self.fs.$op(req)
            }
        )*
    };
}

#[async_trait::async_trait]
impl S3 for LargeReads {
    pass! {
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
        list_buckets(ListBucketsInput) -> ListBucketsOutput;
        put_object(PutObjectInput) -> PutObjectOutput;
        head_object(HeadObjectInput) -> HeadObjectOutput;
        copy_object(CopyObjectInput) -> CopyObjectOutput;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
        list_objects(ListObjectsInput) -> ListObjectsOutput;
        list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output;
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
        upload_part(UploadPartInput) -> UploadPartOutput;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput;
        list_parts(ListPartsInput) -> ListPartsOutput;
        complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    }

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let resp = self.fs.create_bucket(req).await?;
        self.mirror(Method::PUT, &bucket).await?;
        Ok(resp)
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let resp = self.fs.delete_bucket(req).await?;
        self.mirror(Method::DELETE, &bucket).await?;
        Ok(resp)
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let path = self.root.join(&req.input.bucket).join(&req.input.key);
        let range = req.input.range;
        let mut resp = self.fs.get_object(req).await?;
        // s3s-fs opened this file and checked the range; open it again and serve the same bytes.
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| s3_error!(e, InternalError, "reopening the object"))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| s3_error!(e, InternalError))?
            .len();
        let span = match range {
            Some(r) => r.check(len)?,
            None => 0..len,
        };
        let want = span.end - span.start;
        if resp
            .output
            .content_length
            .and_then(|n| u64::try_from(n).ok())
            != Some(want)
        {
            // The object was replaced between the two opens: the client asks again.
            return Err(s3_error!(
                InternalError,
                "the object changed while being read"
            ));
        }
        file.seek(std::io::SeekFrom::Start(span.start))
            .await
            .map_err(|e| s3_error!(e, InternalError))?;
        resp.output.body = Some(StreamingBlob::wrap(ReaderStream::with_capacity(
            file.take(want),
            READ_BYTES,
        )));
        Ok(resp)
    }
}
