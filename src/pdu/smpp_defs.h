/* SMPP 3.4 protocol constants, with the spec's names (SMPP.md §2, §4, §5, §6).
 * The one place protocol numbers live: logic never uses bare values. */
#ifndef SMX_SMPP_DEFS_H
#define SMX_SMPP_DEFS_H

#include <stdint.h>

/* ---- header ---- */
#define SMPP_HEADER_LEN            16u
#define SMPP_RESP_BIT              0x80000000u
#define SMPP_SEQ_MIN               0x00000001u
#define SMPP_SEQ_MAX               0x7FFFFFFFu
#define SMPP_DEFAULT_MAX_PDU       65536u

/* ---- command_id (3.4 §5.1.2.1) ---- */
#define SMPP_GENERIC_NACK          0x80000000u
#define SMPP_BIND_RECEIVER         0x00000001u
#define SMPP_BIND_RECEIVER_RESP    0x80000001u
#define SMPP_BIND_TRANSMITTER      0x00000002u
#define SMPP_BIND_TRANSMITTER_RESP 0x80000002u
#define SMPP_QUERY_SM              0x00000003u
#define SMPP_QUERY_SM_RESP         0x80000003u
#define SMPP_SUBMIT_SM             0x00000004u
#define SMPP_SUBMIT_SM_RESP        0x80000004u
#define SMPP_DELIVER_SM            0x00000005u
#define SMPP_DELIVER_SM_RESP       0x80000005u
#define SMPP_UNBIND                0x00000006u
#define SMPP_UNBIND_RESP           0x80000006u
#define SMPP_REPLACE_SM            0x00000007u
#define SMPP_REPLACE_SM_RESP       0x80000007u
#define SMPP_CANCEL_SM             0x00000008u
#define SMPP_CANCEL_SM_RESP        0x80000008u
#define SMPP_BIND_TRANSCEIVER      0x00000009u
#define SMPP_BIND_TRANSCEIVER_RESP 0x80000009u
#define SMPP_OUTBIND               0x0000000Bu
#define SMPP_ENQUIRE_LINK          0x00000015u
#define SMPP_ENQUIRE_LINK_RESP     0x80000015u
#define SMPP_SUBMIT_MULTI          0x00000021u
#define SMPP_SUBMIT_MULTI_RESP     0x80000021u
#define SMPP_ALERT_NOTIFICATION    0x00000102u
#define SMPP_DATA_SM               0x00000103u
#define SMPP_DATA_SM_RESP          0x80000103u
#define SMPP_BROADCAST_SM          0x00000111u
#define SMPP_QUERY_BROADCAST_SM    0x00000112u
#define SMPP_CANCEL_BROADCAST_SM   0x00000113u
#define SMPP_BROADCAST_SM_RESP         0x80000111u /* 5.0 */
#define SMPP_QUERY_BROADCAST_SM_RESP   0x80000112u /* 5.0 */
#define SMPP_CANCEL_BROADCAST_SM_RESP  0x80000113u /* 5.0 */

/* ---- command_status (3.4 §5.1.3; 5.0 additions marked) ---- */
#define SMPP_ESME_ROK              0x00000000u
#define SMPP_ESME_RINVMSGLEN       0x00000001u
#define SMPP_ESME_RINVCMDLEN       0x00000002u
#define SMPP_ESME_RINVCMDID        0x00000003u
#define SMPP_ESME_RINVBNDSTS       0x00000004u
#define SMPP_ESME_RALYBND          0x00000005u
#define SMPP_ESME_RINVPRTFLG       0x00000006u
#define SMPP_ESME_RINVREGDLVFLG    0x00000007u
#define SMPP_ESME_RSYSERR          0x00000008u
#define SMPP_ESME_RINVSRCADR       0x0000000Au
#define SMPP_ESME_RINVDSTADR       0x0000000Bu
#define SMPP_ESME_RINVMSGID        0x0000000Cu
#define SMPP_ESME_RBINDFAIL        0x0000000Du
#define SMPP_ESME_RINVPASWD        0x0000000Eu
#define SMPP_ESME_RINVSYSID        0x0000000Fu
#define SMPP_ESME_RCANCELFAIL      0x00000011u
#define SMPP_ESME_RREPLACEFAIL     0x00000013u
#define SMPP_ESME_RMSGQFUL         0x00000014u
#define SMPP_ESME_RINVSERTYP       0x00000015u
#define SMPP_ESME_RINVNUMDESTS     0x00000033u
#define SMPP_ESME_RINVDLNAME       0x00000034u
#define SMPP_ESME_RINVDESTFLAG     0x00000040u
#define SMPP_ESME_RINVSUBREP       0x00000042u
#define SMPP_ESME_RINVESMCLASS     0x00000043u
#define SMPP_ESME_RCNTSUBDL        0x00000044u
#define SMPP_ESME_RSUBMITFAIL      0x00000045u
#define SMPP_ESME_RINVSRCTON       0x00000048u
#define SMPP_ESME_RINVSRCNPI       0x00000049u
#define SMPP_ESME_RINVDSTTON       0x00000050u
#define SMPP_ESME_RINVDSTNPI       0x00000051u
#define SMPP_ESME_RINVSYSTYP       0x00000053u
#define SMPP_ESME_RINVREPFLAG      0x00000054u
#define SMPP_ESME_RINVNUMMSGS      0x00000055u
#define SMPP_ESME_RTHROTTLED       0x00000058u
#define SMPP_ESME_RINVSCHED        0x00000061u
#define SMPP_ESME_RINVEXPIRY       0x00000062u
#define SMPP_ESME_RINVDFTMSGID     0x00000063u
#define SMPP_ESME_RX_T_APPN        0x00000064u
#define SMPP_ESME_RX_P_APPN        0x00000065u
#define SMPP_ESME_RX_R_APPN        0x00000066u
#define SMPP_ESME_RQUERYFAIL       0x00000067u
#define SMPP_ESME_RINVOPTPARSTREAM 0x000000C0u
#define SMPP_ESME_ROPTPARNOTALLWD  0x000000C1u
#define SMPP_ESME_RINVPARLEN       0x000000C2u
#define SMPP_ESME_RMISSINGOPTPARAM 0x000000C3u
#define SMPP_ESME_RINVOPTPARAMVAL  0x000000C4u
#define SMPP_ESME_RDELIVERYFAILURE 0x000000FEu
#define SMPP_ESME_RUNKNOWNERR      0x000000FFu
#define SMPP_ESME_RINVDCS          0x00000104u /* 5.0 */

/* ---- TLV tags (3.4 §5.3) ---- */
#define SMPP_TAG_DEST_ADDR_SUBUNIT          0x0005u
#define SMPP_TAG_DEST_NETWORK_TYPE          0x0006u
#define SMPP_TAG_DEST_BEARER_TYPE           0x0007u
#define SMPP_TAG_DEST_TELEMATICS_ID         0x0008u
#define SMPP_TAG_SOURCE_ADDR_SUBUNIT        0x000Du
#define SMPP_TAG_SOURCE_NETWORK_TYPE        0x000Eu
#define SMPP_TAG_SOURCE_BEARER_TYPE         0x000Fu
#define SMPP_TAG_SOURCE_TELEMATICS_ID       0x0010u
#define SMPP_TAG_QOS_TIME_TO_LIVE           0x0017u
#define SMPP_TAG_PAYLOAD_TYPE               0x0019u
#define SMPP_TAG_ADDITIONAL_STATUS_INFO_TEXT 0x001Du
#define SMPP_TAG_RECEIPTED_MESSAGE_ID       0x001Eu
#define SMPP_TAG_MS_MSG_WAIT_FACILITIES     0x0030u
#define SMPP_TAG_PRIVACY_INDICATOR          0x0201u
#define SMPP_TAG_SOURCE_SUBADDRESS          0x0202u
#define SMPP_TAG_DEST_SUBADDRESS            0x0203u
#define SMPP_TAG_USER_MESSAGE_REFERENCE     0x0204u
#define SMPP_TAG_USER_RESPONSE_CODE         0x0205u
#define SMPP_TAG_SOURCE_PORT                0x020Au
#define SMPP_TAG_DESTINATION_PORT           0x020Bu
#define SMPP_TAG_SAR_MSG_REF_NUM            0x020Cu
#define SMPP_TAG_LANGUAGE_INDICATOR         0x020Du
#define SMPP_TAG_SAR_TOTAL_SEGMENTS         0x020Eu
#define SMPP_TAG_SAR_SEGMENT_SEQNUM         0x020Fu
#define SMPP_TAG_SC_INTERFACE_VERSION       0x0210u
#define SMPP_TAG_CALLBACK_NUM_PRES_IND      0x0302u
#define SMPP_TAG_CALLBACK_NUM_ATAG          0x0303u
#define SMPP_TAG_NUMBER_OF_MESSAGES         0x0304u
#define SMPP_TAG_CALLBACK_NUM               0x0381u
#define SMPP_TAG_DPF_RESULT                 0x0420u
#define SMPP_TAG_SET_DPF                    0x0421u
#define SMPP_TAG_MS_AVAILABILITY_STATUS     0x0422u
#define SMPP_TAG_NETWORK_ERROR_CODE         0x0423u
#define SMPP_TAG_MESSAGE_PAYLOAD            0x0424u
#define SMPP_TAG_DELIVERY_FAILURE_REASON    0x0425u
#define SMPP_TAG_MORE_MESSAGES_TO_SEND      0x0426u
#define SMPP_TAG_MESSAGE_STATE              0x0427u
#define SMPP_TAG_CONGESTION_STATE           0x0428u /* 5.0 */
#define SMPP_TAG_USSD_SERVICE_OP            0x0501u
#define SMPP_TAG_DISPLAY_TIME               0x1201u
#define SMPP_TAG_SMS_SIGNAL                 0x1203u
#define SMPP_TAG_MS_VALIDITY                0x1204u
#define SMPP_TAG_ALERT_ON_MESSAGE_DELIVERY  0x130Cu
#define SMPP_TAG_ITS_REPLY_TYPE             0x1380u
#define SMPP_TAG_ITS_SESSION_INFO           0x1383u

/* smsmux's MT identity, agreed between smsmux and tools/smsc-sim (SMSC vendor
 * range 0x1400-0x3FFF). Octet string, 1..64 octets, opaque: the same value on
 * every resubmission of one MT segment, so the service delivers it once (R5).
 * smsmux sends 16 octets: 8-octet instance nonce + 8-octet MT serial, both
 * big-endian; a segmented MT sends the same value in every part and the
 * service keys its dedup on (identity, segment number). */
#define SMPP_TAG_SMX_MSG_IDENTITY           0x1401u
#define SMPP_SMX_IDENTITY_MAX               64u

/* ---- field limits: C-Octet String maxima INCLUDING the NUL (SMPP.md §3) ---- */
#define SMPP_SYSTEM_ID_MAX        16u
#define SMPP_PASSWORD_MAX         9u
#define SMPP_SYSTEM_TYPE_MAX      13u
#define SMPP_ADDRESS_RANGE_MAX    41u
#define SMPP_SERVICE_TYPE_MAX     6u
#define SMPP_ADDR_MAX             21u  /* submit_sm / deliver_sm addresses */
#define SMPP_DATA_SM_ADDR_MAX     65u  /* data_sm, alert_notification addresses */
#define SMPP_TIME_LEN             17u  /* or 1 (NULL) */
#define SMPP_MESSAGE_ID_MAX       65u
#define SMPP_SHORT_MESSAGE_MAX    254u
#define SMPP_DL_NAME_MAX          21u
#define SMPP_STATUS_TEXT_MAX      256u

/* ---- esm_class (3.4 §5.2.12) ---- */
#define SMPP_ESM_MODE_MASK        0x03u
#define SMPP_ESM_TYPE_MASK        0x3Cu
#define SMPP_ESM_TYPE_DEFAULT     0x00u
#define SMPP_ESM_TYPE_SMSC_DR     0x04u
#define SMPP_ESM_TYPE_SME_ACK     0x08u
#define SMPP_ESM_TYPE_USER_ACK    0x10u
#define SMPP_ESM_TYPE_CONV_ABORT  0x18u
#define SMPP_ESM_TYPE_INTERMEDIATE 0x20u
#define SMPP_ESM_UDHI             0x40u
#define SMPP_ESM_REPLY_PATH       0x80u

/* ---- registered_delivery (3.4 §5.2.17) ---- */
#define SMPP_REGDEL_NONE          0x00u
#define SMPP_REGDEL_FINAL         0x01u
#define SMPP_REGDEL_FAILURE       0x02u
#define SMPP_REGDEL_RECEIPT_MASK  0x03u
#define SMPP_REGDEL_INTERMEDIATE  0x10u

/* ---- data_coding as this service uses it (SERVICE.md R9) ---- */
#define SMPP_DCS_DEFAULT          0x00u /* service: UTF-8 */
#define SMPP_DCS_IA5              0x01u
#define SMPP_DCS_GSM              0x02u /* service: GSM 03.38 (spec: 8-bit binary) */
#define SMPP_DCS_LATIN1           0x03u
#define SMPP_DCS_BINARY           0x04u
#define SMPP_DCS_UCS2             0x08u

/* ---- message_state (3.4 §5.2.28) ---- */
#define SMPP_STATE_SCHEDULED      0u /* 5.0 */
#define SMPP_STATE_ENROUTE        1u
#define SMPP_STATE_DELIVERED      2u
#define SMPP_STATE_EXPIRED        3u
#define SMPP_STATE_DELETED        4u
#define SMPP_STATE_UNDELIVERABLE  5u
#define SMPP_STATE_ACCEPTED       6u
#define SMPP_STATE_UNKNOWN        7u
#define SMPP_STATE_REJECTED       8u
#define SMPP_STATE_SKIPPED        9u /* 5.0 */

/* ---- interface_version ---- */
#define SMPP_VERSION_33           0x33u
#define SMPP_VERSION_34           0x34u
#define SMPP_VERSION_50           0x50u

#endif
