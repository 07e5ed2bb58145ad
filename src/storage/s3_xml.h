// The little XML that S3 answers with (storage layer): error bodies (<Error><Code>...</Code>
// <Message>...</Message></Error>), ListObjectsV2 results (<Contents><Key/><ETag/></Contents>,
// <NextContinuationToken>), CreateMultipartUpload's <UploadId>. Not a general XML parser: it finds
// elements by name, never recurses and never fails; malformed or truncated input gives "" / fewer
// elements, so a broken reply becomes a clear error upstream, never a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace frugal::storage::s3xml {

// The unescaped text of the first <tag>...</tag> in `xml` ("" when there is none).
std::string first_text(std::string_view xml, std::string_view tag);

// The raw inner XML of every <tag>...</tag> in `xml`, in order (nested same-name tags unsupported).
std::vector<std::string_view> elements(std::string_view xml, std::string_view tag);

// &amp; &lt; &gt; &quot; &apos; and numeric &#N; / &#xN; (ASCII) decoded; anything else kept.
std::string unescape(std::string_view text);

// `text` with & < > escaped (for request bodies).
std::string escape(std::string_view text);

}  // namespace frugal::storage::s3xml
