/* Names of SMPP command ids, statuses and message states (for logs and the
 * CLI), which requests expect a response, and the client's retry policy for
 * a response status (SMPP.md §4 "Class" column). */
#include "pdu.h"

const char *smx_command_name(uint32_t command_id)
{
        switch (command_id) {
        case SMPP_GENERIC_NACK: return "generic_nack";
        case SMPP_BIND_RECEIVER: return "bind_receiver";
        case SMPP_BIND_RECEIVER_RESP: return "bind_receiver_resp";
        case SMPP_BIND_TRANSMITTER: return "bind_transmitter";
        case SMPP_BIND_TRANSMITTER_RESP: return "bind_transmitter_resp";
        case SMPP_QUERY_SM: return "query_sm";
        case SMPP_QUERY_SM_RESP: return "query_sm_resp";
        case SMPP_SUBMIT_SM: return "submit_sm";
        case SMPP_SUBMIT_SM_RESP: return "submit_sm_resp";
        case SMPP_DELIVER_SM: return "deliver_sm";
        case SMPP_DELIVER_SM_RESP: return "deliver_sm_resp";
        case SMPP_UNBIND: return "unbind";
        case SMPP_UNBIND_RESP: return "unbind_resp";
        case SMPP_REPLACE_SM: return "replace_sm";
        case SMPP_REPLACE_SM_RESP: return "replace_sm_resp";
        case SMPP_CANCEL_SM: return "cancel_sm";
        case SMPP_CANCEL_SM_RESP: return "cancel_sm_resp";
        case SMPP_BIND_TRANSCEIVER: return "bind_transceiver";
        case SMPP_BIND_TRANSCEIVER_RESP: return "bind_transceiver_resp";
        case SMPP_OUTBIND: return "outbind";
        case SMPP_ENQUIRE_LINK: return "enquire_link";
        case SMPP_ENQUIRE_LINK_RESP: return "enquire_link_resp";
        case SMPP_SUBMIT_MULTI: return "submit_multi";
        case SMPP_SUBMIT_MULTI_RESP: return "submit_multi_resp";
        case SMPP_ALERT_NOTIFICATION: return "alert_notification";
        case SMPP_DATA_SM: return "data_sm";
        case SMPP_DATA_SM_RESP: return "data_sm_resp";
        case SMPP_BROADCAST_SM: return "broadcast_sm";
        case SMPP_BROADCAST_SM_RESP: return "broadcast_sm_resp";
        case SMPP_QUERY_BROADCAST_SM: return "query_broadcast_sm";
        case SMPP_QUERY_BROADCAST_SM_RESP: return "query_broadcast_sm_resp";
        case SMPP_CANCEL_BROADCAST_SM: return "cancel_broadcast_sm";
        case SMPP_CANCEL_BROADCAST_SM_RESP: return "cancel_broadcast_sm_resp";
        default: return "unknown";
        }
}

const char *smx_status_name(uint32_t status)
{
        switch (status) {
        case SMPP_ESME_ROK: return "ESME_ROK";
        case SMPP_ESME_RINVMSGLEN: return "ESME_RINVMSGLEN";
        case SMPP_ESME_RINVCMDLEN: return "ESME_RINVCMDLEN";
        case SMPP_ESME_RINVCMDID: return "ESME_RINVCMDID";
        case SMPP_ESME_RINVBNDSTS: return "ESME_RINVBNDSTS";
        case SMPP_ESME_RALYBND: return "ESME_RALYBND";
        case SMPP_ESME_RINVPRTFLG: return "ESME_RINVPRTFLG";
        case SMPP_ESME_RINVREGDLVFLG: return "ESME_RINVREGDLVFLG";
        case SMPP_ESME_RSYSERR: return "ESME_RSYSERR";
        case SMPP_ESME_RINVSRCADR: return "ESME_RINVSRCADR";
        case SMPP_ESME_RINVDSTADR: return "ESME_RINVDSTADR";
        case SMPP_ESME_RINVMSGID: return "ESME_RINVMSGID";
        case SMPP_ESME_RBINDFAIL: return "ESME_RBINDFAIL";
        case SMPP_ESME_RINVPASWD: return "ESME_RINVPASWD";
        case SMPP_ESME_RINVSYSID: return "ESME_RINVSYSID";
        case SMPP_ESME_RCANCELFAIL: return "ESME_RCANCELFAIL";
        case SMPP_ESME_RREPLACEFAIL: return "ESME_RREPLACEFAIL";
        case SMPP_ESME_RMSGQFUL: return "ESME_RMSGQFUL";
        case SMPP_ESME_RINVSERTYP: return "ESME_RINVSERTYP";
        case SMPP_ESME_RINVNUMDESTS: return "ESME_RINVNUMDESTS";
        case SMPP_ESME_RINVDLNAME: return "ESME_RINVDLNAME";
        case SMPP_ESME_RINVDESTFLAG: return "ESME_RINVDESTFLAG";
        case SMPP_ESME_RINVSUBREP: return "ESME_RINVSUBREP";
        case SMPP_ESME_RINVESMCLASS: return "ESME_RINVESMCLASS";
        case SMPP_ESME_RCNTSUBDL: return "ESME_RCNTSUBDL";
        case SMPP_ESME_RSUBMITFAIL: return "ESME_RSUBMITFAIL";
        case SMPP_ESME_RINVSRCTON: return "ESME_RINVSRCTON";
        case SMPP_ESME_RINVSRCNPI: return "ESME_RINVSRCNPI";
        case SMPP_ESME_RINVDSTTON: return "ESME_RINVDSTTON";
        case SMPP_ESME_RINVDSTNPI: return "ESME_RINVDSTNPI";
        case SMPP_ESME_RINVSYSTYP: return "ESME_RINVSYSTYP";
        case SMPP_ESME_RINVREPFLAG: return "ESME_RINVREPFLAG";
        case SMPP_ESME_RINVNUMMSGS: return "ESME_RINVNUMMSGS";
        case SMPP_ESME_RTHROTTLED: return "ESME_RTHROTTLED";
        case SMPP_ESME_RINVSCHED: return "ESME_RINVSCHED";
        case SMPP_ESME_RINVEXPIRY: return "ESME_RINVEXPIRY";
        case SMPP_ESME_RINVDFTMSGID: return "ESME_RINVDFTMSGID";
        case SMPP_ESME_RX_T_APPN: return "ESME_RX_T_APPN";
        case SMPP_ESME_RX_P_APPN: return "ESME_RX_P_APPN";
        case SMPP_ESME_RX_R_APPN: return "ESME_RX_R_APPN";
        case SMPP_ESME_RQUERYFAIL: return "ESME_RQUERYFAIL";
        case SMPP_ESME_RINVOPTPARSTREAM: return "ESME_RINVOPTPARSTREAM";
        case SMPP_ESME_ROPTPARNOTALLWD: return "ESME_ROPTPARNOTALLWD";
        case SMPP_ESME_RINVPARLEN: return "ESME_RINVPARLEN";
        case SMPP_ESME_RMISSINGOPTPARAM: return "ESME_RMISSINGOPTPARAM";
        case SMPP_ESME_RINVOPTPARAMVAL: return "ESME_RINVOPTPARAMVAL";
        case SMPP_ESME_RDELIVERYFAILURE: return "ESME_RDELIVERYFAILURE";
        case SMPP_ESME_RUNKNOWNERR: return "ESME_RUNKNOWNERR";
        case SMPP_ESME_RINVDCS: return "ESME_RINVDCS";
        default: return "unknown";
        }
}

const char *smx_state_name(uint8_t message_state)
{
        static const char *const names[] = {
                [SMPP_STATE_SCHEDULED] = "SCHEDULED",
                [SMPP_STATE_ENROUTE] = "ENROUTE",
                [SMPP_STATE_DELIVERED] = "DELIVERED",
                [SMPP_STATE_EXPIRED] = "EXPIRED",
                [SMPP_STATE_DELETED] = "DELETED",
                [SMPP_STATE_UNDELIVERABLE] = "UNDELIVERABLE",
                [SMPP_STATE_ACCEPTED] = "ACCEPTED",
                [SMPP_STATE_UNKNOWN] = "UNKNOWN",
                [SMPP_STATE_REJECTED] = "REJECTED",
                [SMPP_STATE_SKIPPED] = "SKIPPED",
        };

        if (message_state < sizeof names / sizeof names[0])
                return names[message_state];
        return "UNKNOWN";
}

int smx_command_has_resp(uint32_t command_id)
{
        switch (command_id) {
        case SMPP_BIND_RECEIVER:
        case SMPP_BIND_TRANSMITTER:
        case SMPP_BIND_TRANSCEIVER:
        case SMPP_QUERY_SM:
        case SMPP_SUBMIT_SM:
        case SMPP_DELIVER_SM:
        case SMPP_UNBIND:
        case SMPP_REPLACE_SM:
        case SMPP_CANCEL_SM:
        case SMPP_ENQUIRE_LINK:
        case SMPP_SUBMIT_MULTI:
        case SMPP_DATA_SM:
        case SMPP_BROADCAST_SM:
        case SMPP_QUERY_BROADCAST_SM:
        case SMPP_CANCEL_BROADCAST_SM:
                return 1;
        default:
                return 0;
        }
}

/* SMSC vendor-specific status range (3.4 §5.1.3): transient by default. */
#define SMPP_STATUS_VENDOR_MIN 0x00000400u
#define SMPP_STATUS_VENDOR_MAX 0x000004FFu

enum smx_status_class smx_status_classify(uint32_t status)
{
        switch (status) {
        case SMPP_ESME_ROK:
                return SMX_STATUS_OK;
        case SMPP_ESME_RTHROTTLED:
        /* "message queue full" is the SMSC pushing back on this bind, like
         * throttling (Kannel handles the two alike): pausing the bind steers
         * the retries to other binds instead of spending the MT's attempts
         * on the bind that refuses fastest. */
        case SMPP_ESME_RMSGQFUL:
                return SMX_STATUS_THROTTLED;
        case SMPP_ESME_RSYSERR:
        case SMPP_ESME_RX_T_APPN:
        case SMPP_ESME_RUNKNOWNERR:
                return SMX_STATUS_TRANSIENT;
        case SMPP_ESME_RINVBNDSTS:
                return SMX_STATUS_SESSION;
        case SMPP_ESME_RALYBND:
        case SMPP_ESME_RBINDFAIL:
        case SMPP_ESME_RINVPASWD:
        case SMPP_ESME_RINVSYSID:
        case SMPP_ESME_RINVSYSTYP:
                return SMX_STATUS_CONFIG;
        default:
                if (status >= SMPP_STATUS_VENDOR_MIN && status <= SMPP_STATUS_VENDOR_MAX)
                        return SMX_STATUS_TRANSIENT;
                return SMX_STATUS_PERMANENT;
        }
}
