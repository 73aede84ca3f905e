/* A scriptable stand-in for libnvidia-ml.so, built by the test suite.
 *
 * It exports the NVML entry points metricsd calls, with the ABI of the NVML API reference,
 * and answers from a table of per-GPU values that a test fills in. Nothing here talks to a
 * driver. Built in three variants (see tests/nvml/CMakeLists.txt):
 *   default                 every entry point metricsd uses, versioned and unversioned;
 *   FAKE_NVML_MINIMAL       only the old unversioned entry points of the seed's eleven
 *                           metrics (no _v2 names, no energy/ECC/PCIe/processes/limit);
 *   FAKE_NVML_NO_COUNT      lacks nvmlDeviceGetCount*, a required symbol.
 *
 * Script syntax: one "key=value" per line, '#' starts a comment. Keys:
 *   init=<rc>                 what nvmlInit returns (default 0)
 *   count=<n>                 number of GPUs (default 0, at most 16)
 *   count_error=<rc>          nvmlDeviceGetCount returns this instead (0: none)
 *   gpu<i>.name=<text>        also gpu<i>.uuid (defaults: "Fake GPU <i>", "GPU-fake-<i>")
 *   gpu<i>.<field>=<number>   a value; the query answers SUCCESS
 *   gpu<i>.<field>=err:<rc>   the query answers <rc>
 *     fields: util_gpu util_mem mem_total mem_free mem_used mem_reserved temp power_mw
 *     power_limit_mw energy_mj fan clock_sm clock_mem ecc_corrected ecc_uncorrected
 *     pcie_tx pcie_rx (KB/s) throttle. A field never set answers NOT_SUPPORTED. The return code of
 *     a multi-value query comes from its first field (util_gpu, mem_total).
 *   gpu<i>.procs=<pid>:<bytes>,...   compute processes (gprocs: graphics); or err:<rc>
 *   gpu<i>.lost=1             every query on the GPU answers GPU_IS_LOST (0 clears it)
 *   gpu<i>.lost_after_ticks=<n>  lost once nvmlDeviceGetCount was called more than n times
 *
 * The script is read from the file named by $METRICSD_FAKE_NVML_SCRIPT on the first nvmlInit
 * after load or fake_nvml_reset(). In-process tests can also drive it through the exported
 * control functions fake_nvml_reset/fake_nvml_set/fake_nvml_calls/fake_nvml_open_inits
 * (see fake_nvml_control.h). Single-threaded by design; the state is process-global because
 * the real library's is too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define FAKE_MAX_GPUS 16
#define FAKE_MAX_PROCS 64

enum {
  RC_SUCCESS = 0,
  RC_UNINITIALIZED = 1,
  RC_INVALID_ARGUMENT = 2,
  RC_NOT_SUPPORTED = 3,
  RC_INSUFFICIENT_SIZE = 7,
  RC_GPU_IS_LOST = 15,
  RC_ARGUMENT_VERSION_MISMATCH = 25,
};

typedef struct {
  unsigned long long value;
  int rc;
} field_t;

typedef struct {
  unsigned int pid;
  unsigned long long used;
} proc_t;

typedef struct {
  unsigned count;
  int rc;
  proc_t items[FAKE_MAX_PROCS];
} proc_list_t;

enum {
  F_UTIL_GPU,
  F_UTIL_MEM,
  F_MEM_TOTAL,
  F_MEM_FREE,
  F_MEM_USED,
  F_MEM_RESERVED,
  F_TEMP,
  F_POWER,
  F_POWER_LIMIT,
  F_ENERGY,
  F_FAN,
  F_CLOCK_SM,
  F_CLOCK_MEM,
  F_ECC_CORRECTED,
  F_ECC_UNCORRECTED,
  F_PCIE_TX,
  F_PCIE_RX,
  F_THROTTLE,
  F_COUNT
};

static const char* const kFieldNames[F_COUNT] = {
    "util_gpu",  "util_mem",      "mem_total",       "mem_free",  "mem_used", "mem_reserved",
    "temp",      "power_mw",      "power_limit_mw",  "energy_mj", "fan",      "clock_sm",
    "clock_mem", "ecc_corrected", "ecc_uncorrected", "pcie_tx",   "pcie_rx",  "throttle"};

struct nvmlDevice_st {
  char name[96];
  int name_rc;
  char uuid[96];
  int uuid_rc;
  field_t f[F_COUNT];
  proc_list_t procs;
  proc_list_t gprocs;
  int lost;
  long long lost_after_ticks;
};

enum {
  C_INIT,
  C_SHUTDOWN,
  C_COUNT,
  C_HANDLE,
  C_NAME,
  C_UUID,
  C_UTIL,
  C_MEM,
  C_MEM_V2,
  C_TEMP,
  C_TEMP_V,
  C_POWER,
  C_PCIE,
  C_PROCS,
  C_CALLS
};
static const char* const kCallNames[C_CALLS] = {"nvmlInit",
                                                "nvmlShutdown",
                                                "nvmlDeviceGetCount",
                                                "nvmlDeviceGetHandleByIndex",
                                                "nvmlDeviceGetName",
                                                "nvmlDeviceGetUUID",
                                                "nvmlDeviceGetUtilizationRates",
                                                "nvmlDeviceGetMemoryInfo",
                                                "nvmlDeviceGetMemoryInfo_v2",
                                                "nvmlDeviceGetTemperature",
                                                "nvmlDeviceGetTemperatureV",
                                                "nvmlDeviceGetPowerUsage",
                                                "nvmlDeviceGetPcieThroughput",
                                                "nvmlDeviceGetRunningProcesses"};

static struct {
  int script_loaded;
  int init_rc;
  unsigned count;
  int count_rc;
  long long inits; /* successful nvmlInit minus nvmlShutdown */
  unsigned long long ticks;
  unsigned long long calls[C_CALLS];
  struct nvmlDevice_st gpus[FAKE_MAX_GPUS];
} g;

static void reset_state(void) {
  memset(&g, 0, sizeof(g));
  for (int i = 0; i < FAKE_MAX_GPUS; ++i) {
    struct nvmlDevice_st* d = &g.gpus[i];
    snprintf(d->name, sizeof(d->name), "Fake GPU %d", i);
    snprintf(d->uuid, sizeof(d->uuid), "GPU-fake-%d", i);
    for (int k = 0; k < F_COUNT; ++k) {
      d->f[k].rc = RC_NOT_SUPPORTED;
    }
    d->procs.rc = RC_NOT_SUPPORTED;
    d->gprocs.rc = RC_NOT_SUPPORTED;
    d->lost_after_ticks = -1;
  }
}

/* Zero-initialised static state means "never reset"; make the first use reset it. */
static int g_ready;
static void ensure_ready(void) {
  if (!g_ready) {
    reset_state();
    g_ready = 1;
  }
}

static int parse_rc(const char* value, int* rc) {
  if (strncmp(value, "err:", 4) == 0) {
    *rc = atoi(value + 4);
    return 1;
  }
  return 0;
}

static void parse_procs(const char* value, proc_list_t* list) {
  int rc;
  list->count = 0;
  if (parse_rc(value, &rc)) {
    list->rc = rc;
    return;
  }
  list->rc = RC_SUCCESS;
  const char* p = value;
  while (*p != '\0' && list->count < FAKE_MAX_PROCS) {
    char* end;
    unsigned long pid = strtoul(p, &end, 10);
    if (*end != ':') {
      break;
    }
    unsigned long long used = strtoull(end + 1, &end, 10);
    list->items[list->count].pid = (unsigned)pid;
    list->items[list->count].used = used;
    list->count++;
    p = (*end == ',') ? end + 1 : end;
  }
}

static void copy_trimmed(char* out, size_t cap, const char* begin, const char* end) {
  while (begin < end && (*begin == ' ' || *begin == '\t')) {
    ++begin;
  }
  while (end > begin && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n')) {
    --end;
  }
  size_t n = (size_t)(end - begin);
  if (n >= cap) {
    n = cap - 1;
  }
  memcpy(out, begin, n);
  out[n] = '\0';
}

EXPORT int fake_nvml_set(const char* line) {
  ensure_ready();
  const char* hash = strchr(line, '#');
  const char* stop = hash != NULL ? hash : line + strlen(line);
  const char* eq = memchr(line, '=', (size_t)(stop - line));
  if (eq == NULL) {
    char probe[8];
    copy_trimmed(probe, sizeof(probe), line, stop);
    return probe[0] == '\0' ? 0 : -1; /* blank or comment-only lines are fine */
  }
  char key[64];
  char value[1024];
  copy_trimmed(key, sizeof(key), line, eq);
  copy_trimmed(value, sizeof(value), eq + 1, stop);

  if (strcmp(key, "init") == 0) {
    g.init_rc = atoi(value);
    return 0;
  }
  if (strcmp(key, "count") == 0) {
    unsigned n = (unsigned)strtoul(value, NULL, 10);
    g.count = n > FAKE_MAX_GPUS ? FAKE_MAX_GPUS : n;
    return 0;
  }
  if (strcmp(key, "count_error") == 0) {
    g.count_rc = atoi(value);
    return 0;
  }
  if (strncmp(key, "gpu", 3) != 0) {
    return -1;
  }
  char* dot;
  long index = strtol(key + 3, &dot, 10);
  if (*dot != '.' || index < 0 || index >= FAKE_MAX_GPUS) {
    return -1;
  }
  struct nvmlDevice_st* d = &g.gpus[index];
  const char* field = dot + 1;
  int rc;
  if (strcmp(field, "name") == 0 || strcmp(field, "uuid") == 0) {
    char* target = field[0] == 'n' ? d->name : d->uuid;
    int* target_rc = field[0] == 'n' ? &d->name_rc : &d->uuid_rc;
    if (parse_rc(value, &rc)) {
      *target_rc = rc;
    } else {
      *target_rc = RC_SUCCESS;
      copy_trimmed(target, 96, value, value + strlen(value));
    }
    return 0;
  }
  if (strcmp(field, "procs") == 0 || strcmp(field, "gprocs") == 0) {
    parse_procs(value, field[0] == 'p' ? &d->procs : &d->gprocs);
    return 0;
  }
  if (strcmp(field, "lost") == 0) {
    d->lost = atoi(value);
    return 0;
  }
  if (strcmp(field, "lost_after_ticks") == 0) {
    d->lost_after_ticks = atoll(value);
    return 0;
  }
  for (int k = 0; k < F_COUNT; ++k) {
    if (strcmp(field, kFieldNames[k]) == 0) {
      if (parse_rc(value, &rc)) {
        d->f[k].rc = rc;
      } else {
        d->f[k].rc = RC_SUCCESS;
        d->f[k].value = strtoull(value, NULL, 0);
      }
      return 0;
    }
  }
  return -1;
}

EXPORT void fake_nvml_reset(void) {
  reset_state();
  g_ready = 1;
}

EXPORT unsigned long long fake_nvml_calls(const char* function) {
  ensure_ready();
  for (int i = 0; i < C_CALLS; ++i) {
    if (strcmp(function, kCallNames[i]) == 0) {
      return g.calls[i];
    }
  }
  return 0;
}

EXPORT long long fake_nvml_open_inits(void) {
  ensure_ready();
  return g.inits;
}

static void load_script(void) {
  const char* path = getenv("METRICSD_FAKE_NVML_SCRIPT");
  if (path == NULL || path[0] == '\0') {
    return;
  }
  FILE* file = fopen(path, "r");
  if (file == NULL) {
    return;
  }
  char line[1200];
  while (fgets(line, sizeof(line), file) != NULL) {
    (void)fake_nvml_set(line);
  }
  fclose(file);
}

/* Resolves a handle and applies "lost"; returns RC_SUCCESS or the code to answer. */
static int check_device(struct nvmlDevice_st* device) {
  if (g.inits <= 0) {
    return RC_UNINITIALIZED;
  }
  if (device == NULL || device < g.gpus || device >= g.gpus + g.count) {
    return RC_INVALID_ARGUMENT;
  }
  if (device->lost ||
      (device->lost_after_ticks >= 0 && g.ticks > (unsigned long long)device->lost_after_ticks)) {
    return RC_GPU_IS_LOST;
  }
  return RC_SUCCESS;
}

#define CHECK(device)               \
  do {                              \
    int rc_ = check_device(device); \
    if (rc_ != RC_SUCCESS) {        \
      return rc_;                   \
    }                               \
  } while (0)

static int do_init(void) {
  ensure_ready();
  g.calls[C_INIT]++;
  if (!g.script_loaded) {
    g.script_loaded = 1;
    load_script();
  }
  if (g.init_rc != RC_SUCCESS) {
    return g.init_rc;
  }
  g.inits++;
  return RC_SUCCESS;
}

EXPORT int nvmlInit(void) { return do_init(); }

EXPORT int nvmlShutdown(void) {
  ensure_ready();
  g.calls[C_SHUTDOWN]++;
  if (g.inits <= 0) {
    return RC_UNINITIALIZED;
  }
  g.inits--;
  return RC_SUCCESS;
}

EXPORT const char* nvmlErrorString(int rc) {
  switch (rc) {
    case 0:
      return "Success";
    case 1:
      return "Uninitialized";
    case 2:
      return "Invalid Argument";
    case 3:
      return "Not Supported";
    case 4:
      return "Insufficient Permissions";
    case 9:
      return "Driver Not Loaded";
    case 15:
      return "GPU is lost";
    case 18:
      return "Driver/library version mismatch";
    default:
      return "Unknown Error";
  }
}

#ifndef FAKE_NVML_NO_COUNT
static int do_count(unsigned int* count) {
  ensure_ready();
  g.calls[C_COUNT]++;
  if (g.inits <= 0) {
    return RC_UNINITIALIZED;
  }
  if (count == NULL) {
    return RC_INVALID_ARGUMENT;
  }
  g.ticks++;
  if (g.count_rc != RC_SUCCESS) {
    return g.count_rc;
  }
  *count = g.count;
  return RC_SUCCESS;
}
EXPORT int nvmlDeviceGetCount(unsigned int* count) { return do_count(count); }
#endif

static int do_handle(unsigned int index, struct nvmlDevice_st** device) {
  ensure_ready();
  g.calls[C_HANDLE]++;
  if (g.inits <= 0) {
    return RC_UNINITIALIZED;
  }
  if (device == NULL || index >= g.count) {
    return RC_INVALID_ARGUMENT;
  }
  CHECK(&g.gpus[index]);
  *device = &g.gpus[index];
  return RC_SUCCESS;
}
EXPORT int nvmlDeviceGetHandleByIndex(unsigned int index, struct nvmlDevice_st** device) {
  return do_handle(index, device);
}

static int copy_string(const char* text, int rc, char* out, unsigned int length) {
  if (rc != RC_SUCCESS) {
    return rc;
  }
  if (out == NULL) {
    return RC_INVALID_ARGUMENT;
  }
  if (strlen(text) + 1 > length) {
    return RC_INSUFFICIENT_SIZE;
  }
  memcpy(out, text, strlen(text) + 1);
  return RC_SUCCESS;
}

EXPORT int nvmlDeviceGetName(struct nvmlDevice_st* device, char* name, unsigned int length) {
  g.calls[C_NAME]++;
  CHECK(device);
  return copy_string(device->name, device->name_rc, name, length);
}

EXPORT int nvmlDeviceGetUUID(struct nvmlDevice_st* device, char* uuid, unsigned int length) {
  g.calls[C_UUID]++;
  CHECK(device);
  return copy_string(device->uuid, device->uuid_rc, uuid, length);
}

typedef struct {
  unsigned int gpu;
  unsigned int memory;
} fake_utilization_t;

EXPORT int nvmlDeviceGetUtilizationRates(struct nvmlDevice_st* device, fake_utilization_t* out) {
  g.calls[C_UTIL]++;
  CHECK(device);
  if (device->f[F_UTIL_GPU].rc != RC_SUCCESS) {
    return device->f[F_UTIL_GPU].rc;
  }
  out->gpu = (unsigned)device->f[F_UTIL_GPU].value;
  out->memory = (unsigned)device->f[F_UTIL_MEM].value;
  return RC_SUCCESS;
}

typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} fake_memory_t;

/* v1 reports reserved memory as part of "used". */
EXPORT int nvmlDeviceGetMemoryInfo(struct nvmlDevice_st* device, fake_memory_t* out) {
  g.calls[C_MEM]++;
  CHECK(device);
  if (device->f[F_MEM_TOTAL].rc != RC_SUCCESS) {
    return device->f[F_MEM_TOTAL].rc;
  }
  out->total = device->f[F_MEM_TOTAL].value;
  out->free = device->f[F_MEM_FREE].value;
  out->used = device->f[F_MEM_USED].value + device->f[F_MEM_RESERVED].value;
  return RC_SUCCESS;
}

static int do_temperature(struct nvmlDevice_st* device, int sensor, unsigned int* out) {
  CHECK(device);
  if (sensor != 0 /* NVML_TEMPERATURE_GPU */) {
    return RC_INVALID_ARGUMENT;
  }
  if (device->f[F_TEMP].rc != RC_SUCCESS) {
    return device->f[F_TEMP].rc;
  }
  *out = (unsigned)device->f[F_TEMP].value;
  return RC_SUCCESS;
}

EXPORT int nvmlDeviceGetTemperature(struct nvmlDevice_st* device, int sensor, unsigned int* out) {
  g.calls[C_TEMP]++;
  return do_temperature(device, sensor, out);
}

EXPORT int nvmlDeviceGetPowerUsage(struct nvmlDevice_st* device, unsigned int* out) {
  g.calls[C_POWER]++;
  CHECK(device);
  if (device->f[F_POWER].rc != RC_SUCCESS) {
    return device->f[F_POWER].rc;
  }
  *out = (unsigned)device->f[F_POWER].value;
  return RC_SUCCESS;
}

static int get_uint(struct nvmlDevice_st* device, int field, unsigned int* out) {
  CHECK(device);
  if (out == NULL) {
    return RC_INVALID_ARGUMENT;
  }
  if (device->f[field].rc != RC_SUCCESS) {
    return device->f[field].rc;
  }
  *out = (unsigned)device->f[field].value;
  return RC_SUCCESS;
}

static int get_ull(struct nvmlDevice_st* device, int field, unsigned long long* out) {
  CHECK(device);
  if (out == NULL) {
    return RC_INVALID_ARGUMENT;
  }
  if (device->f[field].rc != RC_SUCCESS) {
    return device->f[field].rc;
  }
  *out = device->f[field].value;
  return RC_SUCCESS;
}

EXPORT int nvmlDeviceGetFanSpeed(struct nvmlDevice_st* device, unsigned int* out) {
  return get_uint(device, F_FAN, out);
}

EXPORT int nvmlDeviceGetClockInfo(struct nvmlDevice_st* device, int type, unsigned int* out) {
  if (type == 1 /* NVML_CLOCK_SM */) {
    return get_uint(device, F_CLOCK_SM, out);
  }
  if (type == 2 /* NVML_CLOCK_MEM */) {
    return get_uint(device, F_CLOCK_MEM, out);
  }
  CHECK(device);
  return RC_INVALID_ARGUMENT;
}

#ifndef FAKE_NVML_MINIMAL

static int processes(struct nvmlDevice_st* device, const proc_list_t* list, unsigned int* count,
                     void* infos, size_t stride) {
  g.calls[C_PROCS]++;
  CHECK(device);
  if (count == NULL) {
    return RC_INVALID_ARGUMENT;
  }
  if (list->rc != RC_SUCCESS) {
    return list->rc;
  }
  if (*count < list->count) {
    *count = list->count;
    return RC_INSUFFICIENT_SIZE;
  }
  if (infos == NULL && list->count > 0) {
    return RC_INVALID_ARGUMENT;
  }
  for (unsigned i = 0; i < list->count; ++i) {
    unsigned char* entry = (unsigned char*)infos + i * stride;
    memset(entry, 0xff, stride); /* gpuInstanceId/computeInstanceId: "no MIG" */
    memcpy(entry, &list->items[i].pid, sizeof(unsigned int));
    memcpy(entry + 8, &list->items[i].used, sizeof(unsigned long long));
  }
  *count = list->count;
  return RC_SUCCESS;
}

EXPORT int nvmlInit_v2(void) { return do_init(); }

#ifndef FAKE_NVML_NO_COUNT
EXPORT int nvmlDeviceGetCount_v2(unsigned int* count) { return do_count(count); }
#endif

EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned int index, struct nvmlDevice_st** device) {
  return do_handle(index, device);
}

typedef struct {
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
} fake_memory_v2_t;

EXPORT int nvmlDeviceGetMemoryInfo_v2(struct nvmlDevice_st* device, fake_memory_v2_t* out) {
  g.calls[C_MEM_V2]++;
  CHECK(device);
  /* NVML_STRUCT_VERSION(Memory, 2): sizeof | 2 << 24 */
  if (out->version != ((unsigned)sizeof(fake_memory_v2_t) | 2U << 24)) {
    return RC_ARGUMENT_VERSION_MISMATCH;
  }
  if (device->f[F_MEM_TOTAL].rc != RC_SUCCESS) {
    return device->f[F_MEM_TOTAL].rc;
  }
  out->total = device->f[F_MEM_TOTAL].value;
  out->reserved = device->f[F_MEM_RESERVED].value;
  out->free = device->f[F_MEM_FREE].value;
  out->used = device->f[F_MEM_USED].value;
  return RC_SUCCESS;
}

typedef struct {
  unsigned int version;
  int sensorType;
  int temperature;
} fake_temperature_t;

EXPORT int nvmlDeviceGetTemperatureV(struct nvmlDevice_st* device, fake_temperature_t* out) {
  g.calls[C_TEMP_V]++;
  CHECK(device);
  if (out->version != ((unsigned)sizeof(fake_temperature_t) | 1U << 24)) {
    return RC_ARGUMENT_VERSION_MISMATCH;
  }
  unsigned value = 0;
  int rc = do_temperature(device, out->sensorType, &value);
  if (rc == RC_SUCCESS) {
    out->temperature = (int)value;
  }
  return rc;
}

EXPORT int nvmlDeviceGetEnforcedPowerLimit(struct nvmlDevice_st* device, unsigned int* out) {
  return get_uint(device, F_POWER_LIMIT, out);
}

EXPORT int nvmlDeviceGetTotalEnergyConsumption(struct nvmlDevice_st* device,
                                               unsigned long long* out) {
  return get_ull(device, F_ENERGY, out);
}

EXPORT int nvmlDeviceGetTotalEccErrors(struct nvmlDevice_st* device, int error_type,
                                       int counter_type, unsigned long long* out) {
  if (counter_type != 0 /* NVML_VOLATILE_ECC */ && counter_type != 1) {
    return RC_INVALID_ARGUMENT;
  }
  if (error_type == 0 /* CORRECTED */) {
    return get_ull(device, F_ECC_CORRECTED, out);
  }
  if (error_type == 1 /* UNCORRECTED */) {
    return get_ull(device, F_ECC_UNCORRECTED, out);
  }
  return RC_INVALID_ARGUMENT;
}

/* KB/s; counter 0 = NVML_PCIE_UTIL_TX_BYTES, 1 = NVML_PCIE_UTIL_RX_BYTES. */
EXPORT int nvmlDeviceGetPcieThroughput(struct nvmlDevice_st* device, int counter,
                                       unsigned int* out) {
  g.calls[C_PCIE]++;
  if (counter == 0) {
    return get_uint(device, F_PCIE_TX, out);
  }
  if (counter == 1) {
    return get_uint(device, F_PCIE_RX, out);
  }
  CHECK(device);
  return RC_INVALID_ARGUMENT;
}

EXPORT int nvmlDeviceGetCurrentClocksEventReasons(struct nvmlDevice_st* device,
                                                  unsigned long long* out) {
  return get_ull(device, F_THROTTLE, out);
}

/* nvmlProcessInfo_v2_t: pid, (pad), usedGpuMemory, gpuInstanceId, computeInstanceId. */
EXPORT int nvmlDeviceGetComputeRunningProcesses_v3(struct nvmlDevice_st* device,
                                                   unsigned int* count, void* infos) {
  return processes(device, device != NULL ? &device->procs : NULL, count, infos, 24);
}

EXPORT int nvmlDeviceGetGraphicsRunningProcesses_v3(struct nvmlDevice_st* device,
                                                    unsigned int* count, void* infos) {
  return processes(device, device != NULL ? &device->gprocs : NULL, count, infos, 24);
}

#else /* FAKE_NVML_MINIMAL: the pre-rename name of the clock reasons query */

EXPORT int nvmlDeviceGetCurrentClocksThrottleReasons(struct nvmlDevice_st* device,
                                                     unsigned long long* out) {
  return get_ull(device, F_THROTTLE, out);
}

#endif
