package com.repose.core

/**
 * A tiny JSON reader (RFC 8259) for the model sidecar, so the core needs nothing beyond the
 * Kotlin stdlib. Objects become [Map] (insertion order kept), arrays [List], numbers [Double]
 * (exact for every integer a sidecar holds), strings [String], `true`/`false` [Boolean], `null` null.
 */
object Json {
    /** Parses [text]; throws [JsonException] with the offset of the first problem. */
    fun parse(text: String): Any? {
        val p = Parser(text)
        p.skipWs()
        val v = p.value()
        p.skipWs()
        if (!p.atEnd()) throw p.error("unexpected trailing characters")
        return v
    }

    private class Parser(private val s: String) {
        private var i = 0

        fun atEnd() = i >= s.length

        fun error(msg: String) = JsonException("JSON: $msg at offset $i")

        fun skipWs() {
            while (i < s.length && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++
        }

        fun value(): Any? {
            if (atEnd()) throw error("unexpected end of input")
            return when (val c = s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c in '0'..'9') num() else throw error("unexpected character '$c'")
            }
        }

        private fun literal(word: String, v: Any?): Any? {
            if (!s.startsWith(word, i)) throw error("expected '$word'")
            i += word.length
            return v
        }

        private fun obj(): Map<String, Any?> {
            val m = LinkedHashMap<String, Any?>()
            i++
            skipWs()
            if (i < s.length && s[i] == '}') {
                i++
                return m
            }
            while (true) {
                skipWs()
                if (atEnd() || s[i] != '"') throw error("expected a string key")
                val k = str()
                skipWs()
                if (atEnd() || s[i] != ':') throw error("expected ':'")
                i++
                skipWs()
                m[k] = value()
                skipWs()
                if (atEnd()) throw error("unterminated object")
                when (s[i]) {
                    ',' -> i++

                    '}' -> {
                        i++
                        return m
                    }

                    else -> throw error("expected ',' or '}'")
                }
            }
        }

        private fun arr(): List<Any?> {
            val a = ArrayList<Any?>()
            i++
            skipWs()
            if (i < s.length && s[i] == ']') {
                i++
                return a
            }
            while (true) {
                skipWs()
                a.add(value())
                skipWs()
                if (atEnd()) throw error("unterminated array")
                when (s[i]) {
                    ',' -> i++

                    ']' -> {
                        i++
                        return a
                    }

                    else -> throw error("expected ',' or ']'")
                }
            }
        }

        private fun str(): String {
            val sb = StringBuilder()
            i++
            while (true) {
                if (atEnd()) throw error("unterminated string")
                val c = s[i++]
                when {
                    c == '"' -> return sb.toString()

                    c == '\\' -> {
                        if (atEnd()) throw error("unterminated escape")
                        when (val e = s[i++]) {
                            '"', '\\', '/' -> sb.append(e)

                            'b' -> sb.append('\b')

                            'f' -> sb.append('\u000C')

                            'n' -> sb.append('\n')

                            'r' -> sb.append('\r')

                            't' -> sb.append('\t')

                            'u' -> {
                                if (i + 4 > s.length) throw error("bad \\u escape")
                                val code = s.substring(i, i + 4).toIntOrNull(16) ?: throw error("bad \\u escape")
                                sb.append(code.toChar())
                                i += 4
                            }

                            else -> throw error("bad escape '\\$e'")
                        }
                    }

                    c < ' ' -> throw error("control character in string")

                    else -> sb.append(c)
                }
            }
        }

        private fun num(): Double {
            val start = i
            if (s[i] == '-') i++
            if (atEnd() || s[i] !in '0'..'9') throw error("bad number")
            if (s[i] == '0') {
                i++
            } else {
                while (i < s.length && s[i] in '0'..'9') i++
            }
            if (i < s.length && s[i] == '.') {
                i++
                if (atEnd() || s[i] !in '0'..'9') throw error("bad fraction")
                while (i < s.length && s[i] in '0'..'9') i++
            }
            if (i < s.length && (s[i] == 'e' || s[i] == 'E')) {
                i++
                if (i < s.length && (s[i] == '+' || s[i] == '-')) i++
                if (atEnd() || s[i] !in '0'..'9') throw error("bad exponent")
                while (i < s.length && s[i] in '0'..'9') i++
            }
            return s.substring(start, i).toDouble()
        }
    }
}

/** A malformed JSON text or a sidecar that does not follow `repose-tflite-sidecar/1`. */
class JsonException(message: String) : IllegalArgumentException(message)
