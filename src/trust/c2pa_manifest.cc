#include "trust/c2pa_manifest.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <fstream>

#include "trust/bmff.h"
#include "trust/bmff_stream.h"
#include "trust/cbor.h"
#include "trust/cose_sign.h"
#include "trust/jumbf.h"

namespace frugal::trust {

namespace {

constexpr const char* kActionsLabel = "c2pa.actions.v2";
constexpr const char* kSoftBindingLabel = "c2pa.soft-binding";
constexpr const char* kBmffHashLabel = "c2pa.hash.bmff.v3";

struct Assertion {
  std::string label;
  std::vector<uint8_t> cbor;
};

void software_agent(CborWriter& w, const ProvenanceInfo& info) {
  const bool has_model = !info.model.empty();
  w.map(has_model ? 3 : 2).text("name").text("frugal").text("version").text(info.software_version);
  if (has_model) w.text("model").text(info.model);
}

std::vector<uint8_t> actions_cbor(const ProvenanceInfo& info) {
  CborWriter w;
  w.map(1).text("actions").array(info.watermark ? 2 : 1);
  w.map(4).text("action").text("c2pa.created");
  w.text("digitalSourceType").text(kTrainedAlgorithmicMedia);
  w.text("softwareAgent");
  software_agent(w, info);
  w.text("description").text(info.model.empty() ? std::string("Generated from a text prompt by frugal")
                                                  : "Generated from a text prompt by frugal with " + info.model);
  if (info.watermark) {
    w.map(3).text("action").text("c2pa.watermarked");
    w.text("softwareAgent");
    software_agent(w, info);
    w.text("description").text("Invisible watermark (" + info.watermark->algorithm +
                               ") in every frame's luma; see the c2pa.soft-binding assertion");
  }
  return w.take();
}

std::vector<uint8_t> soft_binding_cbor(const WatermarkBinding& mark) {
  CborWriter w;
  w.map(3).text("alg").text(mark.algorithm);
  w.text("blocks").array(1).map(2).text("scope").map(0).text("value").bytes(mark.payload);
  w.text("name").text("frugal invisible luma watermark, every frame");
  return w.take();
}

std::vector<uint8_t> bmff_hash_cbor(std::span<const uint8_t> file_hash) {
  CborWriter w;
  w.map(4).text("exclusions").array(3);
  w.map(2).text("xpath").text("/uuid").text("data").array(1);
  w.map(2).text("offset").uint(8).text("value").bytes(kC2paUuid);
  w.map(1).text("xpath").text("/ftyp");
  w.map(1).text("xpath").text("/mfra");
  w.text("alg").text("sha256").text("hash").bytes(file_hash).text("name").text("jumbf manifest");
  return w.take();
}

std::vector<uint8_t> sha256(std::span<const uint8_t> data) {
  std::vector<uint8_t> digest(32);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr);
  return digest;
}

std::vector<uint8_t> claim_cbor(const ProvenanceInfo& info, const std::string& manifest_label,
                                const std::vector<Assertion>& assertions) {
  CborWriter w;
  w.map(info.title.empty() ? 5 : 6);
  w.text("instanceID").text("xmp:iid:" + random_uuid());
  w.text("claim_generator_info").map(2).text("name").text("frugal").text("version").text(info.software_version);
  w.text("signature").text("self#jumbf=/c2pa/" + manifest_label + "/c2pa.signature");
  w.text("created_assertions").array(assertions.size());
  for (const Assertion& a : assertions) {
    const std::vector<uint8_t> box_payload = cbor_assertion_payload(a.label, a.cbor);
    w.map(2).text("url").text("self#jumbf=c2pa.assertions/" + a.label).text("hash").bytes(sha256(box_payload));
  }
  w.text("alg").text("sha256");
  if (!info.title.empty()) w.text("dc:title").text(info.title);
  return w.take();
}

}  // namespace

std::function<Status(const std::string&)> c2pa_before_publish(std::shared_ptr<const SigningCredentials> creds,
                                                              ProvenanceInfo info) {
  return [creds = std::move(creds), info = std::move(info)](const std::string& path) {
    return embed_c2pa_file(path, info, *creds);
  };
}

std::string random_uuid() {
  uint8_t b[16];
  RAND_bytes(b, sizeof(b));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof(out), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

Expected<std::vector<uint8_t>> build_manifest_store(const ProvenanceInfo& info, const SigningCredentials& creds,
                                                    std::span<const uint8_t> file_hash,
                                                    const std::string& manifest_id) {
  if (file_hash.size() != 32) return invalid_argument("c2pa.hash.bmff.v3 needs a 32-byte SHA-256 hash");
  if (info.watermark && info.watermark->algorithm.empty()) {
    return invalid_argument("a C2PA soft binding needs the watermark's algorithm name");
  }
  const std::string manifest_label = "urn:c2pa:" + manifest_id;
  std::vector<Assertion> assertions;
  assertions.push_back({kActionsLabel, actions_cbor(info)});
  if (info.watermark) assertions.push_back({kSoftBindingLabel, soft_binding_cbor(*info.watermark)});
  assertions.push_back({kBmffHashLabel, bmff_hash_cbor(file_hash)});

  const std::vector<uint8_t> claim = claim_cbor(info, manifest_label, assertions);
  auto signature = cose_sign1_es256(creds.key.get(), creds.chain_der, claim);
  if (!signature) return signature.error();

  std::vector<Bytes> assertion_boxes;
  for (const Assertion& a : assertions) assertion_boxes.push_back(make_box("jumb", cbor_assertion_payload(a.label, a.cbor)));
  const Bytes claim_content = make_box("cbor", claim);
  const Bytes signature_content = make_box("cbor", *signature);
  const std::vector<Bytes> manifest_parts = {
      superbox(jumbf_type("c2as"), "c2pa.assertions", assertion_boxes),
      superbox(jumbf_type("c2cl"), "c2pa.claim.v2", std::span<const Bytes>(&claim_content, 1)),
      superbox(jumbf_type("c2cs"), "c2pa.signature", std::span<const Bytes>(&signature_content, 1)),
  };
  const Bytes manifest = superbox(jumbf_type("c2ma"), manifest_label, manifest_parts);
  return superbox(jumbf_type("c2pa"), "c2pa", std::span<const Bytes>(&manifest, 1));
}

Status embed_c2pa_stream(const ByteSource& source, const ProvenanceInfo& info, const SigningCredentials& creds,
                         const std::function<Status(std::span<const uint8_t>)>& sink) {
  const std::string manifest_id = random_uuid();
  const std::vector<uint8_t> zero_hash(32, 0);
  auto placeholder = build_manifest_store(info, creds, zero_hash, manifest_id);
  if (!placeholder) return placeholder.error();
  const uint64_t box_size = c2pa_uuid_box(*placeholder).size();
  auto plan = plan_insert_after_ftyp(source, box_size);
  if (!plan) return plan.error();
  auto hash = planned_bmff_hash(source, *plan);  // the uuid box is excluded: its content does not matter
  if (!hash) return hash.error();
  auto store = build_manifest_store(info, creds, *hash, manifest_id);
  if (!store) return store.error();
  const std::vector<uint8_t> box = c2pa_uuid_box(*store);
  if (box.size() != box_size) {
    return internal_error("C2PA manifest changed size between passes (" + std::to_string(box_size) + " -> " +
                          std::to_string(box.size()) + " bytes)");
  }
  return write_planned(source, *plan, box, sink);
}

Expected<std::vector<uint8_t>> embed_c2pa(std::span<const uint8_t> mp4, const ProvenanceInfo& info,
                                          const SigningCredentials& creds) {
  std::vector<uint8_t> out;
  const Status st = embed_c2pa_stream(SpanSource(mp4), info, creds, [&](std::span<const uint8_t> bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
    return Status::ok();
  });
  if (!st) return st;
  return out;
}

Status embed_c2pa_file(const std::string& path, const ProvenanceInfo& info, const SigningCredentials& creds) {
  auto source = FileSource::open(path);
  if (!source) return not_found("C2PA: " + source.error().message());
  const std::string tmp = path + ".c2pa";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return unavailable("C2PA: cannot create " + tmp);
  const Status st = embed_c2pa_stream(*source, info, creds, [&](std::span<const uint8_t> bytes) {
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return out ? Status::ok() : unavailable("C2PA: cannot write " + tmp);
  });
  if (st) out.flush();
  const bool written = st && static_cast<bool>(out);
  out.close();
  if (!written) {
    std::remove(tmp.c_str());
    if (!st) return Status(st.code(), path + ": " + st.message());
    return unavailable("C2PA: cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return unavailable("C2PA: cannot rename " + tmp + " over " + path);
  }
  return Status::ok();
}

}  // namespace frugal::trust
