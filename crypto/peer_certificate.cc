#include "crypto/peer_certificate.h"

#include <set>
#include <string>

#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/openssl_error.h"

namespace herbtrace::crypto {
namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

absl::Status Refused(absl::string_view why) {
  internal::ClearOpenSslErrors();
  return absl::UnauthenticatedError(absl::StrCat("client certificate: ", why));
}

absl::string_view AsView(const ASN1_STRING* s) {
  return absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

absl::StatusOr<std::string> PartyIdOfCertificate(absl::string_view pem) {
  internal::OpenSslPtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return internal::OpenSslError("client certificate: BIO_new_mem_buf");
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return Refused("not a PEM X.509 certificate");

  // Party URIs among the subjectAltNames; other names (DNS, e-mail, other URIs) are not ours.
  std::set<std::string> uri_parties;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type != GEN_URI) continue;
      const absl::string_view uri = AsView(name->d.uniformResourceIdentifier);
      if (absl::StartsWith(uri, kPartyUriPrefix)) {
        uri_parties.emplace(uri.substr(kPartyUriPrefix.size()));
      }
    }
  }

  std::string common_name;
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  const int cn_index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn_index >= 0) {
    if (X509_NAME_get_index_by_NID(subject, NID_commonName, cn_index) >= 0) {
      return Refused("the subject has more than one commonName");
    }
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, cn_index);
    common_name = std::string(AsView(X509_NAME_ENTRY_get_data(entry)));
  }
  internal::ClearOpenSslErrors();

  if (uri_parties.size() > 1) {
    return Refused(absl::StrCat("names several parties (", absl::StrJoin(uri_parties, ", "),
                                ") in its subjectAltName URIs"));
  }
  if (uri_parties.size() == 1) {
    const std::string& party = *uri_parties.begin();
    // A commonName that looks like another party would be read by people and older tools as
    // the certificate's party: refuse the ambiguity rather than pick one.
    if (!common_name.empty() && common_name != party &&
        common_name.find_first_not_of("0123456789") == std::string::npos) {
      return Refused(absl::StrCat("subjectAltName names party ", party, " but commonName ",
                                  common_name));
    }
    if (party.empty()) return Refused(absl::StrCat(kPartyUriPrefix, " names no party"));
    return party;
  }
  if (common_name.empty()) {
    return Refused(absl::StrCat("names no party (no subjectAltName URI ", kPartyUriPrefix,
                                "<party_id> and no commonName)"));
  }
  return common_name;
}

}  // namespace herbtrace::crypto
