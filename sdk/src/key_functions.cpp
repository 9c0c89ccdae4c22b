// The out-of-line destructors of the SDK's interfaces. Defining them here, in libctxmgr-sdk.so
// with default visibility, gives each interface exactly one vtable and one typeinfo, shared by the
// kernel and every plugin.

#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/embedder.hpp"
#include "ctxmgr/sdk/event_stream.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/plugin.hpp"
#include "ctxmgr/sdk/provider.hpp"
#include "ctxmgr/sdk/provider_tools.hpp"
#include "ctxmgr/sdk/selector.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_access_epoch.hpp"
#include "ctxmgr/sdk/storage_backup.hpp"
#include "ctxmgr/sdk/storage_batch.hpp"
#include "ctxmgr/sdk/storage_change_wake.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"
#include "ctxmgr/sdk/storage_erasure.hpp"
#include "ctxmgr/sdk/storage_memory_files.hpp"
#include "ctxmgr/sdk/storage_read_routing.hpp"
#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "ctxmgr/sdk/storage_retention.hpp"
#include "ctxmgr/sdk/storage_search.hpp"
#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "ctxmgr/sdk/transport.hpp"

namespace ctxmgr::sdk {

Logger::~Logger() = default;
Metrics::~Metrics() = default;
Clock::~Clock() = default;
Host::~Host() = default;
Plugin::~Plugin() = default;
Selector::~Selector() = default;
Storage::~Storage() = default;
StorageSearch::~StorageSearch() = default;
BackupSink::~BackupSink() = default;
RestoreTransaction::~RestoreTransaction() = default;
StorageBackup::~StorageBackup() = default;
StorageRetention::~StorageRetention() = default;
StorageAccessEpoch::~StorageAccessEpoch() = default;
StorageContextChanges::~StorageContextChanges() = default;
StorageVectors::~StorageVectors() = default;
StorageVectorChanges::~StorageVectorChanges() = default;
StorageMemoryFiles::~StorageMemoryFiles() = default;
ProviderTools::~ProviderTools() = default;
StorageErasure::~StorageErasure() = default;
StorageChangeWake::~StorageChangeWake() = default;
StorageWebhooks::~StorageWebhooks() = default;
StorageReceivedGrants::~StorageReceivedGrants() = default;
StorageReadRouting::~StorageReadRouting() = default;
Embedder::~Embedder() = default;
BatchTransaction::~BatchTransaction() = default;
StorageBatch::~StorageBatch() = default;
CompletionSink::~CompletionSink() = default;
ProcessStream::~ProcessStream() = default;
EventStream::~EventStream() = default;
Provider::~Provider() = default;
Transaction::~Transaction() = default;
Transport::~Transport() = default;
ContextApi::~ContextApi() = default;

}  // namespace ctxmgr::sdk
