#!/usr/bin/env python3
"""Writes the labelled relevance set of the selection tests: contexts.jsonl and queries.json.

Written for this project (no outside corpus). 30 topics of an organisation's working notes, each
with 8 contexts (4 in Spanish, 4 in English) built from the topic's own words in their different
forms (singular and plural, verb and noun, with their accents), plus 60 contexts that make it
hard: near-duplicates (an updated copy of a note) and distractors (a note of one topic that names
a word of another in passing). Topics overlap on purpose (billing and payroll both talk about
payments, backups and database migrations both about databases, ...).

Graded judgments, computed from how each context was built:
  3  a core context of the query's topic (it names three or more of the topic's words)
  2  any other context of the query's topic (near-duplicates included)
  1  a context of a related topic, or a distractor that names the topic in passing
  0  the rest (absent from the judgments)
recall@10 counts the contexts graded 2 or 3.

The output is deterministic (fixed seed); run it again after changing this file:
  python3 tests/data/relevance/generate.py
"""

import json
import random
from pathlib import Path

random.seed(20261129)

# topic: (tag, Spanish words, English words, related topics). The first three words of each list
# are forms of the topic's head word (a noun, its plural, the verb: what notes about it say in one
# form or another); the other three are words often found beside it.
TOPICS = {
    "billing": ("billing", ["facturación", "facturas", "facturar", "cobros", "pagos", "clientes"],
                ["invoicing", "invoices", "invoice", "billing", "charges", "payments"], ["payroll", "budget"]),
    "dbmigration": ("database", ["migración", "migraciones", "migrar", "base de datos", "esquema", "tablas"],
                    ["migration", "migrations", "migrate", "database", "schema", "tables"], ["backups", "performance"]),
    "backups": ("backup", ["respaldo", "respaldos", "respaldar", "restauración", "discos", "copia de seguridad"],
                ["backup", "backups", "backing up", "restore", "snapshot", "disks"], ["dbmigration", "security"]),
    "security": ("security", ["vulnerabilidad", "vulnerabilidades", "vulnerable", "seguridad", "contraseñas", "cifrado"],
                 ["vulnerability", "vulnerabilities", "vulnerable", "security", "passwords", "encryption"], ["privacy", "network"]),
    "hiring": ("hr", ["contratación", "contratar", "contratamos", "candidatos", "entrevistas", "vacante"],
               ["hiring", "hire", "hired", "candidates", "interviews", "opening"], ["onboarding", "contracts"]),
    "vacation": ("hr", ["ausencia", "ausencias", "ausente", "vacaciones", "festivos", "calendario"],
                 ["absence", "absences", "absent", "vacation", "holidays", "calendar"], ["payroll"]),
    "deploy": ("devops", ["despliegue", "despliegues", "desplegar", "producción", "versión", "reversión"],
               ["deployment", "deployments", "deploy", "production", "release", "rollback"], ["testing", "monitoring"]),
    "monitoring": ("devops", ["alerta", "alertas", "alertar", "monitorización", "métricas", "latencia"],
                   ["alert", "alerts", "alerting", "monitoring", "metrics", "latency"], ["performance", "deploy"]),
    "support": ("support", ["reclamación", "reclamaciones", "reclamar", "soporte", "clientes", "atención"],
                ["complaint", "complaints", "complaining", "support", "customers", "helpdesk"], ["travel"]),
    "marketing": ("marketing", ["campaña", "campañas", "publicitaria", "publicidad", "anuncios", "redes sociales"],
                  ["campaign", "campaigns", "campaigning", "advertising", "ads", "social media"], ["seo", "newsletter"]),
    "budget": ("finance", ["presupuesto", "presupuestos", "presupuestar", "gastos", "costes", "previsión"],
               ["budget", "budgets", "budgeting", "expenses", "costs", "forecast"], ["billing", "payroll"]),
    "contracts": ("legal", ["contrato", "contratos", "contractual", "cláusulas", "firma", "abogados"],
                  ["contract", "contracts", "contractual", "clauses", "signature", "lawyers"], ["privacy", "hiring"]),
    "onboarding": ("hr", ["incorporación", "incorporaciones", "incorporar", "bienvenida", "mentor", "primer día"],
                   ["onboarding", "onboard", "onboarded", "welcome", "mentor", "first day"], ["hiring", "training"]),
    "performance": ("engineering", ["optimización", "optimizar", "optimizado", "rendimiento", "caché", "consultas"],
                    ["optimization", "optimize", "optimized", "performance", "cache", "queries"], ["monitoring", "dbmigration"]),
    "mobile": ("mobile", ["notificación", "notificaciones", "notificar", "aplicación móvil", "android", "pantallas"],
               ["notification", "notifications", "notify", "mobile app", "android", "screens"], ["accessibility"]),
    "shipping": ("logistics", ["envío", "envíos", "enviar", "transportista", "paquetes", "aduanas"],
                 ["shipment", "shipments", "shipping", "carrier", "parcels", "customs"], ["inventory"]),
    "inventory": ("logistics", ["inventario", "inventarios", "existencias", "proveedores", "almacén", "pedidos"],
                  ["inventory", "inventories", "stock", "suppliers", "warehouse", "orders"], ["shipping"]),
    "travel": ("travel", ["viaje", "viajes", "viajar", "vuelos", "hotel", "reservas"],
               ["trip", "trips", "travel", "flights", "hotel", "bookings"], ["budget", "support"]),
    "accessibility": ("design", ["accesibilidad", "accesible", "accesibles", "lector de pantalla", "contraste", "teclado"],
                      ["accessibility", "accessible", "inaccessible", "screen reader", "contrast", "keyboard"], ["mobile"]),
    "i18n": ("engineering", ["traducción", "traducciones", "traducir", "idiomas", "localización", "glosario"],
             ["translation", "translations", "translate", "languages", "localization", "glossary"], ["marketing"]),
    "testing": ("engineering", ["prueba", "pruebas", "probar", "errores", "regresión", "calidad"],
                ["test", "tests", "testing", "bugs", "regression", "quality"], ["deploy"]),
    "office": ("facilities", ["mudanza", "mudanzas", "mudarnos", "oficina", "limpieza", "edificio"],
               ["move", "moves", "moving", "office", "cleaning", "building"], ["budget", "energy"]),
    "payroll": ("finance", ["nómina", "nóminas", "salarios", "retenciones", "impuestos", "sueldo"],
                ["payroll", "payslip", "payslips", "withholding", "taxes", "wages"], ["billing", "vacation"]),
    "newsletter": ("marketing", ["boletín", "boletines", "suscriptores", "correo", "bajas", "plantilla"],
                   ["newsletter", "newsletters", "subscribers", "email", "unsubscribes", "template"], ["marketing"]),
    "privacy": ("legal", ["privacidad", "privado", "privados", "datos personales", "consentimiento", "RGPD"],
               ["privacy", "private", "privately", "personal data", "consent", "GDPR"], ["security", "contracts"]),
    "network": ("it", ["red", "redes", "conexión", "cortafuegos", "VPN", "routers"],
                ["network", "networks", "networking", "firewall", "VPN", "routers"], ["security"]),
    "seo": ("marketing", ["posicionamiento", "posicionar", "posicionado", "buscadores", "palabras clave", "tráfico"],
            ["ranking", "rank", "ranked", "search engines", "keywords", "traffic"], ["marketing"]),
    "energy": ("facilities", ["energía", "energética", "energético", "consumo eléctrico", "emisiones", "paneles solares"],
               ["energy", "power", "powered", "consumption", "emissions", "solar panels"], ["office"]),
    "roadmap": ("product", ["hoja de ruta", "lanzamiento", "lanzar", "funcionalidades", "prioridades", "hitos"],
                ["roadmap", "launch", "launching", "features", "priorities", "milestones"], ["deploy"]),
    "training": ("hr", ["formación", "formar", "formativo", "cursos", "certificación", "talleres"],
                 ["training", "train", "trained", "courses", "certification", "workshops"], ["onboarding"]),
}

ES_CORE = [
    "Notas sobre {a}: hay que revisar {b} y {c} antes del cierre del mes.",
    "Resumen de la reunión: {a}, {b} y {c}. Responsable asignado y fecha acordada.",
    "Guía interna de {a}. Explica {b} paso a paso y qué hacer con {c}.",
    "Decisión tomada sobre {a}: cambiamos {b} y dejamos {c} como estaba.",
]
ES_PLAIN = [
    "Pendiente: preguntar por {a} al equipo la próxima semana.",
    "Recordatorio rápido sobre {a}; comentarlo en la reunión del lunes.",
    "El cliente preguntó por {a} y por {b}; contestar hoy.",
    "Idea para más adelante relacionada con {a}.",
]
EN_CORE = [
    "Notes on {a}: we need to review {b} and {c} before the end of the month.",
    "Meeting summary: {a}, {b} and {c}. Owner assigned and date agreed.",
    "Internal guide to {a}. It explains {b} step by step and what to do about {c}.",
    "Decision on {a}: we change {b} and keep {c} as it was.",
]
EN_PLAIN = [
    "To do: ask the team about {a} next week.",
    "Quick reminder about {a}; bring it up at Monday's meeting.",
    "The customer asked about {a} and {b}; answer today.",
    "An idea for later related to {a}.",
]
DISTRACT_ES = "Sobre {a} hablamos poco: el tema de hoy fue {x}, y {y} quedó para otro día."
DISTRACT_EN = "We barely touched {a}: today's topic was {x}, and {y} was left for another day."

PRIORITIES = ["high", "medium", "low", None]


def fill(template, words):
    # A core note names its head word in one form and two more of the topic's words.
    head = random.choice(words[:3])
    rest = random.sample([w for w in words if w != head], 2)
    return template.format(a=head, b=rest[0], c=rest[1])


contexts = []  # {key, topic, lang, kind, context_data, metadata}


def add(key, topic, lang, kind, text, tag, extra=None):
    meta = {"tags": [tag]}
    p = random.choice(PRIORITIES)
    if p:
        meta["priority"] = p
    data = {"title": text.split(":")[0].split(";")[0][:60], "body": text, "lang": lang}
    if extra:
        data.update(extra)
    contexts.append({"key": key, "topic": topic, "lang": lang, "kind": kind,
                     "context_data": data, "metadata": meta})


for topic, (tag, es, en, _) in TOPICS.items():
    for i in range(2):
        add(f"{topic}-es-core-{i}", topic, "es", "core", fill(ES_CORE[(i + len(topic)) % 4], es),
            tag)
        add(f"{topic}-en-core-{i}", topic, "en", "core", fill(EN_CORE[(i + len(topic)) % 4], en), tag)
    for i in range(2):
        t = ES_PLAIN[(i + len(topic)) % 4]
        add(f"{topic}-es-plain-{i}", topic, "es", "plain",
            t.format(a=random.choice(es[:3]), b=random.choice(es[3:])), tag)
        t = EN_PLAIN[(i + len(topic)) % 4]
        add(f"{topic}-en-plain-{i}", topic, "en", "plain",
            t.format(a=random.choice(en[:3]), b=random.choice(en[3:])), tag)

# Near-duplicates: an updated copy of 30 of the notes (same topic, a sentence added).
for c in random.sample([c for c in contexts if c["kind"] == "core"], 30):
    data = dict(c["context_data"])
    data["body"] = data["body"] + (" Actualizado tras la revisión." if c["lang"] == "es"
                                   else " Updated after the review.")
    contexts.append({"key": c["key"] + "-dup", "topic": c["topic"], "lang": c["lang"],
                     "kind": "duplicate", "context_data": data,
                     "metadata": dict(c["metadata"], priority="high")})

# Distractors: 30 notes of one topic that name another topic's word in passing.
names = list(TOPICS)
for i in range(30):
    own, other = random.sample(names, 2)
    lang = "es" if i % 2 == 0 else "en"
    tag, es, en, _ = TOPICS[own]
    words = es if lang == "es" else en
    other_words = TOPICS[other][1] if lang == "es" else TOPICS[other][2]
    text = (DISTRACT_ES if lang == "es" else DISTRACT_EN).format(
        a=random.choice(other_words[3:]), x=words[0], y=words[1])
    contexts.append({"key": f"distractor-{i}", "topic": own, "lang": lang, "kind": "distractor",
                     "mentions": other, "context_data": {"title": text[:40], "body": text, "lang": lang},
                     "metadata": {"tags": [tag]}})

# Queries: (text, topic, what it tests). Spanish and English, one and several words, with and
# without accents, inflected forms, and always contexts in both languages to find.
QUERIES = [
    ("facturación", "billing", "es accent"),
    ("facturas pendientes", "billing", "es plural, multi"),
    ("invoiced charges", "billing", "en inflected, multi"),
    ("migrar la base de datos", "dbmigration", "es verb for noun, multi"),
    ("schema migrations", "dbmigration", "en plural"),
    ("respaldos de discos", "backups", "es plural, multi"),
    ("backing up a snapshot", "backups", "en inflected"),
    ("vulnerabilidad", "security", "es singular for plural"),
    ("vulnerabilidades de seguridad", "security", "es plural, cognate"),
    ("vulnerable passwords", "security", "en multi"),
    ("contratar candidatos", "hiring", "es verb, multi"),
    ("hire", "hiring", "en verb for noun"),
    ("ausencias y festivos", "vacation", "es multi"),
    ("absent", "vacation", "en adjective for noun"),
    ("desplegar en produccion", "deploy", "es no accent"),
    ("deployments rollback", "deploy", "en multi"),
    ("alertas de latencia", "monitoring", "es multi"),
    ("alerting metrics", "monitoring", "en inflected"),
    ("reclamaciones de clientes", "support", "es multi"),
    ("customer complaint", "support", "en singular"),
    ("campana de publicidad", "marketing", "es no accent, multi"),
    ("presupuestos", "budget", "es plural"),
    ("budgeting costs", "budget", "en multi"),
    ("clausulas del contrato", "contracts", "es no accent"),
    ("contractual signature", "contracts", "en multi"),
    ("incorporar al equipo", "onboarding", "es verb"),
    ("optimizar consultas", "performance", "es verb"),
    ("optimized cache", "performance", "en inflected"),
    ("notificación", "mobile", "es accent"),
    ("envio de paquetes", "shipping", "es no accent"),
    ("customs shipments", "shipping", "en plural"),
    ("inventarios del almacen", "inventory", "es no accent, plural"),
    ("viajar", "travel", "es verb"),
    ("trips and flights", "travel", "en plural"),
    ("accesible", "accessibility", "es adjective"),
    ("traducciones", "i18n", "es plural"),
    ("translate languages", "i18n", "en verb"),
    ("pruebas de regresion", "testing", "es no accent"),
    ("testing bugs", "testing", "en inflected"),
    ("mudanza de oficina", "office", "es multi"),
    ("nominas", "payroll", "es no accent, plural"),
    ("payslip taxes", "payroll", "en multi"),
    ("boletines", "newsletter", "es plural"),
    ("privacidad de datos personales", "privacy", "es multi"),
    ("networking firewall", "network", "en multi"),
    ("posicionar", "seo", "es verb"),
    ("energía", "energy", "es accent"),
    ("roadmap milestones", "roadmap", "en multi"),
    ("formación", "training", "es accent"),
    ("trained", "training", "en inflected"),
]


def grade(query_topic, c):
    if c["topic"] == query_topic:
        return 3 if c["kind"] in ("core", "duplicate") else 2
    if c["kind"] == "distractor" and c.get("mentions") == query_topic:
        return 1
    if c["topic"] in TOPICS[query_topic][3]:
        return 1
    return 0


out = Path(__file__).resolve().parent
with open(out / "contexts.jsonl", "w", encoding="utf-8") as f:
    for c in contexts:
        f.write(json.dumps({"key": c["key"], "context_data": c["context_data"],
                            "metadata": c["metadata"]}, ensure_ascii=False) + "\n")
queries = []
for text, topic, what in QUERIES:
    judgments = {c["key"]: grade(topic, c) for c in contexts if grade(topic, c) > 0}
    queries.append({"query": text, "topic": topic, "tests": what, "judgments": judgments})
with open(out / "queries.json", "w", encoding="utf-8") as f:
    json.dump(queries, f, ensure_ascii=False, indent=1)
print(f"{len(contexts)} contexts, {len(queries)} queries")
