package com.repose.core

import com.google.gson.Gson
import com.google.gson.JsonArray
import com.google.gson.JsonElement
import com.google.gson.JsonIOException
import com.google.gson.JsonNull
import com.google.gson.JsonObject
import com.google.gson.JsonParseException
import com.google.gson.JsonPrimitive
import com.google.gson.TypeAdapter
import com.google.gson.stream.JsonReader
import com.google.gson.stream.JsonToken
import java.io.IOException
import java.io.StringReader

/**
 * JSON for the model sidecar, read with Gson (maintained, runs on Android and on the JVM) in
 * strict RFC 8259 mode, then turned into plain Kotlin values so [Sidecar] validates fields with
 * its own field-naming messages: objects become [Map] (insertion order kept), arrays [List],
 * numbers [Double] (exact for every integer a sidecar holds), strings [String], `true`/`false`
 * [Boolean], `null` null.
 */
object Json {
    private val elements: TypeAdapter<JsonElement> = Gson().getAdapter(JsonElement::class.java)

    /** Parses [text]; throws [JsonException] saying where the first problem is. */
    fun parse(text: String): Any? {
        val reader = JsonReader(StringReader(text))
        reader.isLenient = false // strict: no comments, single quotes, trailing commas, leading zeros...
        val element =
            try {
                val e = elements.read(reader)
                if (reader.peek() != JsonToken.END_DOCUMENT) throw JsonException("JSON: unexpected trailing characters at ${reader.path}")
                e
            } catch (e: JsonException) {
                throw e
            } catch (e: IOException) {
                throw JsonException("JSON: ${e.message}")
            } catch (e: JsonParseException) {
                throw JsonException("JSON: ${e.message}")
            } catch (e: JsonIOException) {
                throw JsonException("JSON: ${e.message}")
            } catch (e: IllegalStateException) {
                throw JsonException("JSON: ${e.message}")
            } catch (e: NumberFormatException) {
                throw JsonException("JSON: bad number (${e.message})")
            }
        return plain(element)
    }

    private fun plain(e: JsonElement?): Any? = when (e) {
        null, is JsonNull -> null

        is JsonObject -> LinkedHashMap<String, Any?>().also { m -> for ((k, v) in e.entrySet()) m[k] = plain(v) }

        is JsonArray -> e.map { plain(it) }

        is JsonPrimitive ->
            when {
                e.isBoolean -> e.asBoolean
                e.isNumber -> e.asDouble
                else -> e.asString
            }

        else -> throw JsonException("JSON: unsupported element ${e.javaClass.simpleName}")
    }
}

/** A malformed JSON text or a sidecar that does not follow `repose-tflite-sidecar/1`. */
class JsonException(message: String) : IllegalArgumentException(message)
