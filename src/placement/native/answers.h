// The batch answer writer (answers.cc), registered on the addon's exports by lookup.cc.
#ifndef SWIMRING_ANSWERS_H
#define SWIMRING_ANSWERS_H
#include <v8.h>

namespace swimring {
void RegisterAnswers(v8::Local<v8::Object> exports);
}

#endif
