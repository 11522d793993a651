/* core_text_shown: see text.h. */
#include <string.h>

#include "core/text.h"

size_t core_text_shown(char *out, size_t cap, const char *s, size_t max,
                       const char *also)
{
    size_t o = 0;
    if (!out || cap < 5) {
        if (out && cap) out[0] = '\0';
        return 0;
    }
    for (size_t i = 0; s && s[i]; i++) {
        if (i == max || o + 4 >= cap) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char ch = (unsigned char)s[i];
        int bad = ch < 0x20 || ch > 0x7e || (also && strchr(also, ch));
        out[o++] = bad ? '?' : (char)ch;
    }
    out[o] = '\0';
    return o;
}
