"""Translations of the web inbox: Spanish (default), English and Portuguese.

Messages are keyed by a short id; every id has the three languages, so a missing
translation is a test failure, not a blank on screen. Enum labels (intents,
origins, stages...) are translated under ``<enum>.<value>`` keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

LANGUAGES = ("es", "en", "pt")
DEFAULT_LANGUAGE = "es"
LANGUAGE_NAMES = {"es": "Español", "en": "English", "pt": "Português"}

# id: (es, en, pt)
_MESSAGES: dict[str, tuple[str, str, str]] = {
    # --- chrome ---------------------------------------------------------------
    "app.title": ("Bandeja de leads", "Lead inbox", "Caixa de leads"),
    "nav.inbox": ("Bandeja", "Inbox", "Caixa"),
    "nav.metrics": ("Métricas", "Metrics", "Métricas"),
    "nav.signout": ("Salir", "Sign out", "Sair"),
    "nav.signout_all": (
        "Salir en todos los dispositivos",
        "Sign out everywhere",
        "Sair em todos os dispositivos",
    ),
    "nav.language": ("Idioma", "Language", "Idioma"),
    "nav.signed_in_as": ("Conectado como", "Signed in as", "Conectado como"),
    "role.admin": ("administrador", "admin", "administrador"),
    "role.agent": ("agente", "agent", "agente"),
    "nojs": (
        "Las actualizaciones en vivo necesitan JavaScript; recarga la página para ver lo nuevo.",
        "Live updates need JavaScript; reload the page to see what is new.",
        "As atualizações ao vivo precisam de JavaScript; recarregue a página para ver as novidades.",
    ),
    # --- sign-in --------------------------------------------------------------
    "login.title": ("Iniciar sesión", "Sign in", "Entrar"),
    "login.token": ("Tu token de agente", "Your agent token", "Seu token de agente"),
    "login.help": (
        "Pide tu token al administrador (lead-copilot agents add).",
        "Ask your admin for your token (lead-copilot agents add).",
        "Peça seu token ao administrador (lead-copilot agents add).",
    ),
    "login.submit": ("Entrar", "Sign in", "Entrar"),
    "login.bad_token": (
        "Token inválido o agente inactivo.",
        "Invalid token or inactive agent.",
        "Token inválido ou agente inativo.",
    ),
    "login.signed_out": ("Sesión cerrada.", "Signed out.", "Sessão encerrada."),
    # --- list -----------------------------------------------------------------
    "view.mine": ("Mías", "Mine", "Minhas"),
    "view.unassigned": ("Sin asignar", "Unassigned", "Sem responsável"),
    "view.team": ("Mi equipo", "My team", "Minha equipe"),
    "view.all": ("Todas", "All", "Todas"),
    "filter.stage": ("Etapa", "Stage", "Etapa"),
    "filter.origin": ("Origen", "Origin", "Origem"),
    "filter.tag": ("Etiqueta", "Tag", "Etiqueta"),
    "filter.handoff": ("Requiere persona", "Handoff needed", "Requer pessoa"),
    "filter.sla": ("SLA vencido", "SLA breached", "SLA vencido"),
    "filter.status": ("Estado", "Status", "Status"),
    "filter.any": ("Cualquiera", "Any", "Qualquer"),
    "filter.search": (
        "Buscar contacto o texto",
        "Search contact or text",
        "Buscar contato ou texto",
    ),
    "filter.apply": ("Filtrar", "Filter", "Filtrar"),
    "filter.more": ("Más filtros", "More filters", "Mais filtros"),
    "filter.clear": ("Limpiar", "Clear", "Limpar"),
    "status.open": ("Abiertas", "Open", "Abertas"),
    "status.closed": ("Cerradas", "Closed", "Fechadas"),
    "col.contact": ("Contacto", "Contact", "Contato"),
    "col.last_message": ("Último mensaje", "Last message", "Última mensagem"),
    "col.waiting": ("Esperando", "Waiting", "Aguardando"),
    "col.origin": ("Origen", "Origin", "Origem"),
    "col.intent": ("Intención", "Intent", "Intenção"),
    "col.stage": ("Etapa", "Stage", "Etapa"),
    "col.owner": ("Responsable", "Owner", "Responsável"),
    "list.empty": (
        "No hay conversaciones aquí.",
        "No conversations here.",
        "Nenhuma conversa aqui.",
    ),
    "list.more": ("Más antiguas", "Older", "Mais antigas"),
    "list.newer": ("Más recientes", "Newer", "Mais recentes"),
    "list.oldest_first": (
        "Las que más esperan, primero.",
        "Longest waiting first.",
        "Quem espera há mais tempo, primeiro.",
    ),
    "badge.handoff": ("Persona", "Handoff", "Pessoa"),
    "badge.sla": ("SLA", "SLA", "SLA"),
    "badge.opted_out": ("Baja", "Opted out", "Descadastrado"),
    "nobody": ("Nadie", "Nobody", "Ninguém"),
    "you": ("tú", "you", "você"),
    # --- conversation -----------------------------------------------------------
    "conv.back": ("Volver a la bandeja", "Back to the inbox", "Voltar para a caixa"),
    "conv.owner": ("Responsable", "Owner", "Responsável"),
    "conv.team": ("Equipo", "Team", "Equipe"),
    "conv.claim": ("Tomar", "Claim", "Assumir"),
    "conv.release": ("Liberar", "Release", "Liberar"),
    "conv.transfer": ("Transferir", "Transfer", "Transferir"),
    "conv.transfer_to": ("Transferir a", "Transfer to", "Transferir para"),
    "conv.transfer_note": (
        "Nota para el nuevo responsable",
        "Note for the new owner",
        "Nota para o novo responsável",
    ),
    "conv.window_open": (
        "Ventana de 24 h abierta hasta {until}: texto libre permitido.",
        "24-hour window open until {until}: free text allowed.",
        "Janela de 24 h aberta até {until}: texto livre permitido.",
    ),
    "conv.window_closed": (
        "Ventana de 24 h cerrada: solo plantillas aprobadas.",
        "24-hour window closed: approved templates only.",
        "Janela de 24 h fechada: apenas modelos aprovados.",
    ),
    "conv.opted_out": (
        "El contacto pidió no recibir más mensajes.",
        "The contact opted out of messages.",
        "O contato pediu para não receber mais mensagens.",
    ),
    "conv.taken_over": (
        "Una persona tomó la conversación.",
        "A person took the conversation over.",
        "Uma pessoa assumiu a conversa.",
    ),
    "conv.not_owner": (
        "Solo el responsable puede responder. Toma la conversación para contestar.",
        "Only the owner may reply. Claim the conversation to answer.",
        "Só o responsável pode responder. Assuma a conversa para responder.",
    ),
    "conv.live_new": (
        "Hay mensajes nuevos. Recarga para responder con la conversación al día (tu borrador se conserva).",
        "New messages arrived. Reload to answer with the conversation up to date (your draft is kept).",
        "Chegaram mensagens novas. Recarregue para responder com a conversa atualizada (seu rascunho é mantido).",
    ),
    "conv.live_owner": (
        "El responsable de la conversación cambió.",
        "The conversation's owner changed.",
        "O responsável pela conversa mudou.",
    ),
    "conv.reload": ("Recargar", "Reload", "Recarregar"),
    "chat.title": ("Conversación", "Conversation", "Conversa"),
    "chat.empty": ("Sin mensajes.", "No messages.", "Sem mensagens."),
    "author.lead": ("Lead", "Lead", "Lead"),
    "author.agent": ("Agente", "Agent", "Agente"),
    "author.bot": ("Automático", "Automatic", "Automático"),
    "author.phone_echo": ("Desde el teléfono", "From the phone", "Pelo telefone"),
    "chat.backfill": ("historial importado", "imported history", "histórico importado"),
    "chat.template": ("plantilla", "template", "modelo"),
    "chat.edited": ("editado", "edited", "editada"),
    "chat.edited_at": ("Editado a las", "Edited at", "Editada às"),
    "chat.revoked": (
        "El lead eliminó este mensaje",
        "The lead deleted this message",
        "O lead apagou esta mensagem",
    ),
    "chat.revoked_by_us": (
        "Mensaje eliminado para todos",
        "Message deleted for everyone",
        "Mensagem apagada para todos",
    ),
    "chat.revoked_at": ("Eliminado a las", "Deleted at", "Apagada às"),
    "chat.reaction.lead": ("Reacción del lead", "Lead's reaction", "Reação do lead"),
    "chat.reaction.business": (
        "Reacción del negocio",
        "Business's reaction",
        "Reação da empresa",
    ),
    # --- analysis ---------------------------------------------------------------
    "an.title": ("Análisis", "Analysis", "Análise"),
    "an.none": ("Aún sin análisis.", "No analysis yet.", "Ainda sem análise."),
    "an.intent": ("Intención", "Intent", "Intenção"),
    "an.origin": ("Origen", "Origin", "Origem"),
    "an.evidence": ("Evidencia", "Evidence", "Evidência"),
    "an.fields": ("Calificación", "Qualification", "Qualificação"),
    "an.from_message": ("del mensaje", "from message", "da mensagem"),
    "an.no_fields": ("Nada conocido aún.", "Nothing known yet.", "Nada conhecido ainda."),
    "an.handoff": ("Traspaso a persona", "Handoff", "Transferência para pessoa"),
    "an.handoff_yes": ("Sí: {reason}", "Yes: {reason}", "Sim: {reason}"),
    "an.handoff_no": ("No hace falta", "Not needed", "Não é necessário"),
    "an.handoff_needed": ("Sí, una persona", "Yes, a person", "Sim, uma pessoa"),
    "an.confidence": ("confianza", "confidence", "confiança"),
    "an.engine": ("motor", "engine", "motor"),
    "an.corrected": ("corregido", "corrected", "corrigido"),
    "an.correct": ("Corregir al copiloto", "Correct the copilot", "Corrigir o copiloto"),
    "an.correct_hint": (
        "Lo que digas queda junto a lo que dijo el copiloto, para sus evaluaciones.",
        "What you say is kept beside what the copilot said, for its evals.",
        "O que você disser fica junto ao que o copiloto disse, para as avaliações.",
    ),
    "an.unchanged": ("— sin cambio —", "— unchanged —", "— sem mudança —"),
    "an.correct_submit": ("Guardar corrección", "Save correction", "Salvar correção"),
    "an.corrected_ok": ("Corrección guardada.", "Correction saved.", "Correção salva."),
    # --- suggestion & reply -------------------------------------------------------
    "sug.title": ("Respuesta sugerida", "Suggested reply", "Resposta sugerida"),
    "sug.none": (
        "No hay sugerencia pendiente.",
        "No suggestion waiting.",
        "Nenhuma sugestão pendente.",
    ),
    "sug.accept": ("Aceptar y enviar", "Accept and send", "Aceitar e enviar"),
    "sug.edit": ("Enviar editada", "Send edited", "Enviar editada"),
    "sug.reject": ("Descartar", "Reject", "Descartar"),
    "sug.reject_reason": ("Motivo (opcional)", "Reason (optional)", "Motivo (opcional)"),
    "sug.template_only": (
        "Fuera de la ventana solo se puede enviar sin cambios una plantilla aprobada.",
        "Outside the window only an approved template, unchanged, can be sent.",
        "Fora da janela só um modelo aprovado, sem alterações, pode ser enviado.",
    ),
    "reply.title": ("Responder", "Reply", "Responder"),
    "reply.placeholder": ("Escribe tu respuesta…", "Write your reply…", "Escreva sua resposta…"),
    "reply.send": ("Enviar", "Send", "Enviar"),
    "reply.sent": ("Mensaje enviado.", "Message sent.", "Mensagem enviada."),
    "reply.outbox": (
        "Mensaje guardado en la bandeja de salida.",
        "Message stored in the outbox.",
        "Mensagem guardada na caixa de saída.",
    ),
    # --- side panels ----------------------------------------------------------------
    "notes.title": ("Notas internas", "Internal notes", "Notas internas"),
    "notes.add": ("Agregar nota", "Add note", "Adicionar nota"),
    "notes.none": ("Sin notas.", "No notes.", "Sem notas."),
    "tags.title": ("Etiquetas", "Tags", "Etiquetas"),
    "tags.add": ("Agregar", "Add", "Adicionar"),
    "tags.remove": ("Quitar etiqueta {tag}", "Remove tag {tag}", "Remover etiqueta {tag}"),
    "stage.title": ("Etapa", "Stage", "Etapa"),
    "stage.lost_reason": ("Motivo de pérdida", "Lost reason", "Motivo da perda"),
    "stage.save": ("Guardar etapa", "Save stage", "Salvar etapa"),
    "tasks.title": ("Tareas", "Tasks", "Tarefas"),
    "tasks.none": ("Sin tareas.", "No tasks.", "Sem tarefas."),
    "tasks.new": ("Nueva tarea", "New task", "Nova tarefa"),
    "tasks.due": ("Vence", "Due", "Vence"),
    "tasks.add": ("Crear tarea", "Create task", "Criar tarefa"),
    "tasks.done": ("Hecha", "Done", "Feita"),
    "tasks.cancel": ("Cancelar", "Cancel", "Cancelar"),
    "task.soft_followup": ("Seguimiento suave", "Soft follow-up", "Acompanhamento leve"),
    "task.proposal_followup": (
        "Seguimiento de propuesta",
        "Proposal follow-up",
        "Acompanhamento de proposta",
    ),
    "task.reactivation": ("Reactivación", "Reactivation", "Reativação"),
    "task.custom": ("Tarea", "Task", "Tarefa"),
    "taskstate.pending": ("pendiente", "pending", "pendente"),
    "taskstate.fired": ("vencida", "due", "vencida"),
    "taskstate.done": ("hecha", "done", "feita"),
    "taskstate.cancelled": ("cancelada", "cancelled", "cancelada"),
    "history.title": ("Historial", "History", "Histórico"),
    # --- closing, snoozing, confirmations ---------------------------------------------
    "close.title": ("Cerrar conversación", "Close conversation", "Encerrar conversa"),
    "close.outcome": ("Resultado", "Outcome", "Resultado"),
    "close.choose": ("Elige el resultado…", "Choose the outcome…", "Escolha o resultado…"),
    "close.note": ("Nota (opcional)", "Note (optional)", "Nota (opcional)"),
    "close.submit": ("Cerrar", "Close", "Encerrar"),
    "outcome.won": ("Ganada", "Won", "Ganha"),
    "outcome.lost": ("Perdida", "Lost", "Perdida"),
    "outcome.spam": ("Spam", "Spam", "Spam"),
    "outcome.no_reply_needed": (
        "No necesita respuesta",
        "No reply needed",
        "Não precisa de resposta",
    ),
    "conv.closed_banner": (
        "Conversación cerrada: {outcome}. Se reabre si el contacto escribe.",
        "Conversation closed: {outcome}. It reopens when the contact writes.",
        "Conversa encerrada: {outcome}. Reabre se o contato escrever.",
    ),
    "conv.snoozed_banner": (
        "Pospuesta hasta {until}. Vuelve antes si el contacto escribe.",
        "Snoozed until {until}. It comes back earlier if the contact writes.",
        "Adiada até {until}. Volta antes se o contato escrever.",
    ),
    "conv.reopen": ("Reabrir", "Reopen", "Reabrir"),
    "snooze.title": ("Posponer", "Snooze", "Adiar"),
    "snooze.1h": ("1 hora", "1 hour", "1 hora"),
    "snooze.4h": ("4 horas", "4 hours", "4 horas"),
    "snooze.tomorrow": ("Mañana a las 9:00", "Tomorrow at 9:00", "Amanhã às 9:00"),
    "snooze.week": ("En una semana, 9:00", "In a week, 9:00", "Em uma semana, 9:00"),
    "snooze.submit": ("Posponer", "Snooze", "Adiar"),
    "status.snoozed": ("Pospuestas", "Snoozed", "Adiadas"),
    "sug.again": ("Pedir otra sugerencia", "Ask for another suggestion", "Pedir outra sugestão"),
    "ok.claimed": ("Conversación tomada.", "Conversation claimed.", "Conversa assumida."),
    "ok.released": ("Devuelta a la cola.", "Back in the queue.", "Devolvida à fila."),
    "ok.transferred": (
        "Conversación transferida.",
        "Conversation transferred.",
        "Conversa transferida.",
    ),
    "ok.noted": ("Nota guardada.", "Note saved.", "Nota salva."),
    "ok.tagged": ("Etiquetas actualizadas.", "Tags updated.", "Etiquetas atualizadas."),
    "ok.staged": ("Etapa guardada.", "Stage saved.", "Etapa salva."),
    "ok.task_added": ("Tarea creada.", "Task created.", "Tarefa criada."),
    "ok.task_closed": ("Tarea actualizada.", "Task updated.", "Tarefa atualizada."),
    "ok.closed": ("Conversación cerrada.", "Conversation closed.", "Conversa encerrada."),
    "ok.reopened": ("Conversación reabierta.", "Conversation reopened.", "Conversa reaberta."),
    "ok.snoozed": ("Conversación pospuesta.", "Conversation snoozed.", "Conversa adiada."),
    "ok.suggested": ("Nueva sugerencia lista.", "New suggestion ready.", "Nova sugestão pronta."),
    "ok.no_suggestion": (
        "El copiloto no propone respuesta para este mensaje.",
        "The copilot proposes no reply to this message.",
        "O copiloto não propõe resposta para esta mensagem.",
    ),
    "ok.rejected": ("Sugerencia descartada.", "Suggestion rejected.", "Sugestão descartada."),
    "hist.by.system": ("Sistema", "System", "Sistema"),
    "hist.by.lead": ("Contacto", "Contact", "Contato"),
    "hist.claim": ("tomó la conversación", "claimed it", "assumiu a conversa"),
    "hist.release": ("la devolvió a la cola", "released it", "devolveu à fila"),
    "hist.transfer": ("la transfirió", "transferred it", "transferiu"),
    "hist.auto": ("asignación automática", "assigned automatically", "atribuição automática"),
    "hist.queue": ("asignada desde la cola", "assigned from the queue", "atribuída da fila"),
    "hist.reassign_sla": ("reasignada por SLA", "reassigned (SLA)", "reatribuída por SLA"),
    "hist.route": ("enrutada al equipo", "routed to the team", "encaminhada à equipe"),
    "hist.stage": ("cambió la etapa", "changed the stage", "mudou a etapa"),
    "hist.close": ("cerró la conversación", "closed it", "encerrou a conversa"),
    "hist.reopen": ("reabrió la conversación", "reopened it", "reabriu a conversa"),
    "hist.snooze": ("la pospuso", "snoozed it", "adiou"),
    "hist.wake": ("volvió de posponer", "came back from snooze", "voltou do adiamento"),
    "hist.status.open": ("abierta", "open", "aberta"),
    "hist.status.closed": ("cerrada", "closed", "encerrada"),
    "hist.status.snoozed": ("pospuesta", "snoozed", "adiada"),
    "live.notify_on": ("Activar avisos", "Turn on notifications", "Ativar avisos"),
    "live.sound_on": ("Sonido: sí", "Sound: on", "Som: sim"),
    "live.sound_off": ("Sonido: no", "Sound: off", "Som: não"),
    "live.new_message": (
        "Nuevo mensaje de {name}",
        "New message from {name}",
        "Nova mensagem de {name}",
    ),
    "live.handoff": (
        "Necesita una persona: {name}",
        "Needs a person: {name}",
        "Precisa de uma pessoa: {name}",
    ),
    "live.panels": (
        "Análisis y sugerencia actualizados.",
        "Analysis and suggestion updated.",
        "Análise e sugestão atualizadas.",
    ),
    "tpl.title": ("Plantillas aprobadas", "Approved templates", "Modelos aprovados"),
    "tpl.hint": (
        "La ventana de 24 h está cerrada: WhatsApp solo acepta una plantilla aprobada.",
        "The 24-hour window is closed: WhatsApp only takes an approved template.",
        "A janela de 24 h está fechada: o WhatsApp só aceita um modelo aprovado.",
    ),
    "tpl.none": (
        "El perfil no tiene plantillas aprobadas.",
        "The profile has no approved template.",
        "O perfil não tem modelos aprovados.",
    ),
    "tpl.choose": ("Elige una plantilla.", "Choose a template.", "Escolha um modelo."),
    "tpl.send": ("Enviar plantilla", "Send template", "Enviar modelo"),
    "qr.title": ("Respuestas rápidas", "Quick replies", "Respostas rápidas"),
    "qr.hint": (
        "Escribe / en la respuesta y parte del atajo para insertar una.",
        "Type / in the reply and part of the shortcut to insert one.",
        "Digite / na resposta e parte do atalho para inserir uma.",
    ),
    "qr.none": (
        "Todavía no hay respuestas rápidas.",
        "No quick replies yet.",
        "Ainda não há respostas rápidas.",
    ),
    "qr.shortcut": ("Atajo", "Shortcut", "Atalho"),
    "qr.text": ("Texto", "Text", "Texto"),
    "qr.team": ("Equipo", "Team", "Equipe"),
    "qr.everyone": ("Todos los equipos", "Every team", "Todas as equipes"),
    "qr.add": ("Agregar respuesta rápida", "Add quick reply", "Adicionar resposta rápida"),
    "qr.remove": ("Quitar", "Remove", "Remover"),
    "qr.added": ("Respuesta rápida agregada.", "Quick reply added.", "Resposta rápida adicionada."),
    "qr.removed": (
        "Respuesta rápida quitada.",
        "Quick reply removed.",
        "Resposta rápida removida.",
    ),
    "qr.admin_only": (
        "Solo un administrador edita las respuestas rápidas.",
        "Only an admin edits quick replies.",
        "Só um administrador edita as respostas rápidas.",
    ),
    "chat.image": ("Imagen", "Image", "Imagem"),
    "chat.download": ("Descargar", "Download", "Baixar"),
    "media.unavailable": (
        "Este adjunto no está disponible aquí.",
        "This attachment is not available here.",
        "Este anexo não está disponível aqui.",
    ),
    "media.fetch_failed": (
        "No se pudo traer este adjunto de WhatsApp ahora; inténtalo más tarde.",
        "This attachment could not be fetched from WhatsApp just now; try again later.",
        "Não foi possível trazer este anexo do WhatsApp agora; tente mais tarde.",
    ),
    "list.pick": (
        "Elige una conversación de la lista.",
        "Pick a conversation from the list.",
        "Escolha uma conversa da lista.",
    ),
    "list.unread": ("sin leer", "unread", "não lida"),
    "conv.panel": ("Análisis y acciones", "Analysis and actions", "Análise e ações"),
    "conv.panel_close": ("Cerrar panel", "Close panel", "Fechar painel"),
    "kbd.title": ("Atajos de teclado", "Keyboard shortcuts", "Atalhos de teclado"),
    "kbd.send": ("Ctrl/⌘ + Enter: enviar", "Ctrl/⌘ + Enter: send", "Ctrl/⌘ + Enter: enviar"),
    "kbd.esc": (
        "Esc: cancelar o cerrar",
        "Esc: cancel or close",
        "Esc: cancelar ou fechar",
    ),
    "kbd.jk": (
        "j / k: conversación siguiente / anterior",
        "j / k: next / previous conversation",
        "j / k: conversa seguinte / anterior",
    ),
    "kbd.help": ("?: esta ayuda", "?: this help", "?: esta ajuda"),
    "kbd.search": ("/: buscar", "/: search", "/: buscar"),
    "err.claim_taken": (
        "{name} acaba de tomar esta conversación.",
        "{name} just took this conversation.",
        "{name} acabou de assumir esta conversa.",
    ),
    "err.claim_taken_anon": (
        "Otra persona acaba de tomar esta conversación.",
        "Someone else just took this conversation.",
        "Outra pessoa acabou de assumir esta conversa.",
    ),
    "err.lost_reason": (
        "Para cerrar como perdida elige un motivo.",
        "To close as lost, choose a reason.",
        "Para encerrar como perdida, escolha um motivo.",
    ),
    # --- errors ---------------------------------------------------------------------
    "err.csrf": (
        "El formulario caducó o no vino de esta página. Vuelve a intentarlo.",
        "The form expired or did not come from this page. Try again.",
        "O formulário expirou ou não veio desta página. Tente de novo.",
    ),
    "err.forbidden": (
        "No tienes permiso para esto.",
        "You are not allowed to do this.",
        "Você não tem permissão para isso.",
    ),
    "err.not_found": ("No existe.", "Not found.", "Não encontrado."),
    "err.conflict": (
        "Respuesta rechazada, no se envió nada: la conversación cambió desde que la abriste"
        " (un mensaje nuevo, otra respuesta o alguien la tomó). Revísala y vuelve a intentar.",
        "Reply refused, nothing was sent: the conversation changed since you opened it"
        " (a new message, another reply or someone took it). Review it and try again.",
        "Resposta recusada, nada foi enviado: a conversa mudou desde que você a abriu"
        " (uma mensagem nova, outra resposta ou alguém a assumiu). Revise e tente de novo.",
    ),
    "err.not_owner": (
        "Acción rechazada: no eres el responsable de esta conversación; no se envió nada.",
        "Refused: you do not own this conversation; nothing was sent.",
        "Recusado: você não é o responsável por esta conversa; nada foi enviado.",
    ),
    "err.opted_out": (
        "Rechazado: el contacto pidió no recibir mensajes.",
        "Refused: the contact opted out.",
        "Recusado: o contato pediu para não receber mensagens.",
    ),
    "err.window_closed": (
        "Rechazado: la ventana de 24 h está cerrada; solo una plantilla aprobada sin cambios.",
        "Refused: the 24-hour window is closed; only an approved template, unchanged.",
        "Recusado: a janela de 24 h está fechada; apenas um modelo aprovado sem alterações.",
    ),
    "err.send_failed": (
        "El mensaje quedó guardado pero WhatsApp no lo aceptó.",
        "The message is stored but WhatsApp did not accept it.",
        "A mensagem ficou guardada mas o WhatsApp não a aceitou.",
    ),
    "err.invalid": (
        "Dato inválido.",
        "Invalid input.",
        "Dado inválido.",
    ),
    "err.page_title": ("Algo salió mal", "Something went wrong", "Algo deu errado"),
    # --- metrics --------------------------------------------------------------------
    "m.title": ("Métricas", "Metrics", "Métricas"),
    "m.range": ("Periodo", "Range", "Período"),
    "m.days": ("{n} días", "{n} days", "{n} dias"),
    "m.frt": (
        "Primera respuesta (mediana, min)",
        "First response (median, min)",
        "Primeira resposta (mediana, min)",
    ),
    "m.frt_over_time": (
        "Tiempo de primera respuesta por día",
        "First-response time per day",
        "Tempo de primeira resposta por dia",
    ),
    "m.sla": ("Cumplimiento del SLA", "SLA compliance", "Cumprimento do SLA"),
    "m.sla_over_time": (
        "Cumplimiento del SLA por día (%)",
        "SLA compliance per day (%)",
        "Cumprimento do SLA por dia (%)",
    ),
    "m.funnel": ("Embudo por origen", "Funnel by origin", "Funil por origem"),
    "m.agents": ("Agentes", "Agents", "Agentes"),
    "m.agent": ("Agente", "Agent", "Agente"),
    "m.handled": ("Atendidas", "Handled", "Atendidas"),
    "m.conversations": ("Conversaciones", "Conversations", "Conversas"),
    "m.answered": ("Respondidas", "Answered", "Respondidas"),
    "m.median": ("Mediana (min)", "Median (min)", "Mediana (min)"),
    "m.p90": ("p90 (min)", "p90 (min)", "p90 (min)"),
    "m.acceptance": (
        "Aceptación de sugerencias",
        "Suggestion acceptance",
        "Aceitação de sugestões",
    ),
    "m.accepted": ("Aceptadas", "Accepted", "Aceitas"),
    "m.edited": ("Editadas", "Edited", "Editadas"),
    "m.rejected": ("Descartadas", "Rejected", "Descartadas"),
    "m.handoff_rate": ("Traspasos a persona", "Handoffs to a person", "Transferências para pessoa"),
    "m.lost": ("Perdidas", "Lost", "Perdidas"),
    "m.no_data": (
        "Sin datos en este periodo.",
        "No data in this range.",
        "Sem dados neste período.",
    ),
    "m.chart_label": ("Gráfico: {title}", "Chart: {title}", "Gráfico: {title}"),
}

_ENUMS: dict[str, dict[str, tuple[str, str, str]]] = {
    "intent": {
        "greeting": ("Saludo", "Greeting", "Saudação"),
        "product_inquiry": ("Consulta de producto", "Product inquiry", "Consulta de produto"),
        "pricing": ("Precio", "Pricing", "Preço"),
        "availability": ("Disponibilidad", "Availability", "Disponibilidade"),
        "purchase_intent": ("Intención de compra", "Purchase intent", "Intenção de compra"),
        "meeting_request": ("Pide reunión", "Meeting request", "Pede reunião"),
        "provides_info": ("Da información", "Provides info", "Dá informação"),
        "business_info": ("Info del negocio", "Business info", "Info do negócio"),
        "order_status": ("Estado de pedido", "Order status", "Status do pedido"),
        "support": ("Soporte", "Support", "Suporte"),
        "complaint": ("Queja", "Complaint", "Reclamação"),
        "human_request": ("Pide una persona", "Asks for a person", "Pede uma pessoa"),
        "opt_out": ("Baja", "Opt-out", "Descadastro"),
        "spam": ("Spam", "Spam", "Spam"),
        "other": ("Otro", "Other", "Outro"),
    },
    "origin": {
        "ad": ("Anuncio", "Ad", "Anúncio"),
        "instagram": ("Instagram", "Instagram", "Instagram"),
        "facebook": ("Facebook", "Facebook", "Facebook"),
        "website": ("Sitio web", "Website", "Site"),
        "qr": ("Código QR", "QR code", "Código QR"),
        "referral": ("Recomendación", "Referral", "Indicação"),
        "campaign": ("Campaña", "Campaign", "Campanha"),
        "unknown": ("Desconocido", "Unknown", "Desconhecido"),
    },
    "origin_source": {
        "referral_metadata": ("metadatos del anuncio", "ad metadata", "metadados do anúncio"),
        "entry_point": ("punto de entrada", "entry point", "ponto de entrada"),
        "campaign_context": ("respuesta a campaña", "campaign reply", "resposta a campanha"),
        "text": ("texto del lead", "lead's text", "texto do lead"),
        "none": ("sin evidencia", "no evidence", "sem evidência"),
    },
    "stage": {
        "new": ("Nuevo", "New", "Novo"),
        "qualified": ("Calificado", "Qualified", "Qualificado"),
        "proposal_sent": ("Propuesta enviada", "Proposal sent", "Proposta enviada"),
        "won": ("Ganado", "Won", "Ganho"),
        "lost": ("Perdido", "Lost", "Perdido"),
    },
    "lost_reason": {
        "no_budget": ("Sin presupuesto", "No budget", "Sem orçamento"),
        "no_response": ("No responde", "No response", "Não responde"),
        "chose_competitor": (
            "Eligió a la competencia",
            "Chose a competitor",
            "Escolheu a concorrência",
        ),
        "not_interested": ("No le interesa", "Not interested", "Sem interesse"),
        "not_now": ("Ahora no", "Not now", "Agora não"),
        "invalid": ("Inválido", "Invalid", "Inválido"),
    },
    "handoff": {
        "human_request": ("pidió una persona", "asked for a person", "pediu uma pessoa"),
        "complaint": ("queja", "complaint", "reclamação"),
        "hot_lead": ("lead caliente", "hot lead", "lead quente"),
        "complex": ("pedido complejo", "complex request", "pedido complexo"),
        "sensitive": ("tema sensible", "sensitive matter", "assunto sensível"),
        "stuck": ("conversación trabada", "stuck conversation", "conversa travada"),
        "low_confidence": ("análisis poco seguro", "low confidence", "análise pouco segura"),
    },
    "template": {
        "welcome": ("Bienvenida", "Welcome", "Boas-vindas"),
        "qualification": ("Calificación", "Qualification", "Qualificação"),
        "soft_followup": ("Seguimiento suave", "Soft follow-up", "Acompanhamento leve"),
        "proposal_followup": (
            "Seguimiento de propuesta",
            "Proposal follow-up",
            "Acompanhamento de proposta",
        ),
        "reactivation": ("Reactivación", "Reactivation", "Reativação"),
        "out_of_hours": ("Fuera de horario", "Out of hours", "Fora do horário"),
        "acknowledgement": ("Acuse de recibo", "Acknowledgement", "Confirmação de recebimento"),
        "handoff_notice": ("Aviso de traspaso", "Handoff notice", "Aviso de transferência"),
        "opt_out_confirmation": (
            "Confirmación de baja",
            "Opt-out confirmation",
            "Confirmação de descadastro",
        ),
        "business_answer": ("Respuesta del negocio", "Business answer", "Resposta do negócio"),
    },
    "field": {
        "need": ("Necesidad", "Need", "Necessidade"),
        "timeline": ("Plazo", "Timeline", "Prazo"),
        "prior_solution": ("Solución actual", "Prior solution", "Solução atual"),
        "pain": ("Problema", "Pain", "Problema"),
        "next_step": ("Siguiente paso", "Next step", "Próximo passo"),
        "budget": ("Presupuesto", "Budget", "Orçamento"),
        "name": ("Nombre", "Name", "Nome"),
        "email": ("Correo", "E-mail", "E-mail"),
        "phone": ("Teléfono", "Phone", "Telefone"),
        "company": ("Empresa", "Company", "Empresa"),
        "city": ("Ciudad", "City", "Cidade"),
    },
    "msgtype": {
        "image": ("Imagen", "Image", "Imagem"),
        "audio": ("Audio", "Audio", "Áudio"),
        "video": ("Video", "Video", "Vídeo"),
        "document": ("Documento", "Document", "Documento"),
        "sticker": ("Sticker", "Sticker", "Figurinha"),
        "location": ("Ubicación", "Location", "Localização"),
        "contacts": ("Contacto compartido", "Shared contact", "Contato compartilhado"),
        "interactive": ("Respuesta interactiva", "Interactive reply", "Resposta interativa"),
        "button": ("Botón", "Button", "Botão"),
        "reaction": ("Reacción", "Reaction", "Reação"),
        "order": ("Pedido", "Order", "Pedido"),
        "template": ("Plantilla", "Template", "Modelo"),
        "system": ("Aviso del sistema", "System notice", "Aviso do sistema"),
        "unsupported": ("Mensaje no compatible", "Unsupported message", "Mensagem não suportada"),
        "unknown": ("Mensaje desconocido", "Unknown message", "Mensagem desconhecida"),
        "text": ("Texto", "Text", "Texto"),
    },
    "status": {
        "pending": ("enviando", "sending", "enviando"),
        "outbox": ("en bandeja de salida", "in the outbox", "na caixa de saída"),
        "sent": ("enviado", "sent", "enviado"),
        "delivered": ("entregado", "delivered", "entregue"),
        "read": ("leído", "read", "lido"),
        "played": ("escuchado", "played", "ouvido"),
        "failed": ("falló", "failed", "falhou"),
    },
    "timeline": {
        "immediate": ("inmediato", "immediate", "imediato"),
        "this_month": ("este mes", "this month", "este mês"),
        "later": ("más adelante", "later", "mais adiante"),
        "unknown": ("sin definir", "unknown", "indefinido"),
    },
    "next_step": {
        "call": ("llamada", "call", "ligação"),
        "video_call": ("videollamada", "video call", "videochamada"),
        "visit": ("visita", "visit", "visita"),
        "demo": ("demostración", "demo", "demonstração"),
        "quote": ("cotización", "quote", "orçamento"),
        "whatsapp": ("por WhatsApp", "on WhatsApp", "pelo WhatsApp"),
        "email": ("correo", "e-mail", "e-mail"),
    },
}


def _index(lang: str) -> int:
    return LANGUAGES.index(lang) if lang in LANGUAGES else 0


def all_keys() -> list[str]:
    """Every message id (tests check that each has three non-empty translations)."""
    return list(_MESSAGES)


def translate(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (Spanish when unknown), with ``values`` filled in.
    An unknown key is returned as is, so a typo shows up on screen instead of crashing."""
    entry = _MESSAGES.get(key)
    if entry is None:
        return key
    text = entry[_index(lang)]
    return text.format(**values) if values else text


def label(lang: str, kind: str, value: object) -> str:
    """The translated label of an enum value (e.g. ``label("en", "stage", "won")``)."""
    if value is None:
        return ""
    raw = getattr(value, "value", value)
    entry = _ENUMS.get(kind, {}).get(str(raw))
    return entry[_index(lang)] if entry else str(raw)


def enum_tables() -> Mapping[str, Mapping[str, tuple[str, str, str]]]:
    """The enum label tables (read-only use)."""
    return _ENUMS


def negotiate(cookie: str | None) -> str:
    """The language to show: the one the agent chose (cookie), else Spanish. The
    browser's Accept-Language is not followed on purpose: the team works in Spanish
    unless an agent switches."""
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE  # type: ignore[return-value]


def translator(lang: str) -> Callable[..., str]:
    """A ``_(key, **values)`` function bound to ``lang`` (for the templates)."""

    def _(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return _
