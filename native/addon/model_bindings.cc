// loadModel and the NativeModel object.
#include <napi.h>

#include "bindings.h"

namespace tt {

void RegisterModelBindings(Napi::Env env, Napi::Object exports) { (void)env; (void)exports; }

}  // namespace tt
